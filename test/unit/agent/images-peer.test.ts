// Images across nodes: what a node reports in status.images, and which nodes to ask for an image.

import test from 'ava';
import type { Node } from '../../../src/api/types.js';
import { checkImageName, imageSources, normalizeImageRef, statusImages } from '../../../src/agent/images-peer.js';

test('status.images: tagged images with their id, biggest first, at most 50', (t) => {
  const list = statusImages([
    { id: 'sha256:a', repoTags: ['small:1'], size: 10 },
    { id: 'sha256:b', repoTags: ['big:1', 'big:latest'], size: 1000 },
    { id: 'sha256:c', repoTags: ['<none>:<none>'], size: 5000 },
  ]);
  t.deepEqual(list, [
    { names: ['big:1', 'big:latest', 'sha256:b'], sizeBytes: 1000 },
    { names: ['small:1', 'sha256:a'], sizeBytes: 10 },
  ]);
  t.is(statusImages(Array.from({ length: 80 }, (_, i) => ({ id: `sha256:${i}`, repoTags: [`i${i}:1`], size: i }))).length, 50);
});

const node = (name: string, ready: boolean, images: string[][] = []): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown' }], images: images.map((names) => ({ names })) },
});

test('image sources: Ready nodes that list the image first, then the other Ready ones, never this one', (t) => {
  const nodes = [node('c', true), node('b', true, [['myapp:v1']]), node('self', true, [['myapp:v1']]), node('down', false, [['myapp:v1']]), node('a', true, [['myapp:latest']])];
  t.deepEqual(imageSources(nodes, 'myapp:v1', 'self'), ['b', 'a', 'c']);
  t.deepEqual(imageSources(nodes, 'myapp', 'self'), ['a', 'b', 'c'], 'an untagged reference means :latest');
  t.is(normalizeImageRef('registry:5000/x'), 'registry:5000/x:latest');
  t.is(normalizeImageRef('x@sha256:abc'), 'x@sha256:abc');
});

test('image names a node hands out are references, never paths or options', (t) => {
  t.is(checkImageName('registry.example:5000/team/app:v1.2'), 'registry.example:5000/team/app:v1.2');
  for (const bad of ['-rf', '../etc/passwd', 'a b', '', 5, 'x;rm']) t.throws(() => checkImageName(bad));
});
