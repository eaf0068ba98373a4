// Serving what CustomResourceDefinitions define, as the apiextensions server does: a watch on the
// stored CRDs keeps the server's resource catalog, the registry's strategies, the Table printers and
// the OpenAPI documents in step with every definition that is Established. Discovery and OpenAPI
// follow the catalog's change notifications; REST requests find the new resource on the next request.
// A definition being deleted stays served (its objects must still be listed and deleted) but refuses
// new objects; once it is gone from the store, so are its resources.

import type { CustomResourceDefinition, KObject } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { crdResources, isEstablished, servedNames, storageVersion } from '../../api/crd/resources.js';
import { customPrinter } from '../../api/crd/columns.js';
import { customResourceComponents } from '../../api/crd/openapi.js';
import { compileCustomSchema } from '../../api/crd/schema.js';
import { attachPrinter } from '../../api/printers.js';
import type { Registry } from '../registry.js';
import { attachOpenAPI } from '../openapi.js';
import { customResourceStrategy } from './strategy.js';

type Logger = { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };

interface Served {
  signature: string;
  crd: CustomResourceDefinition;
}

/** What of a CRD decides what is served: a change elsewhere (a status timestamp) changes nothing. */
function signatureOf(crd: CustomResourceDefinition): string {
  return JSON.stringify([crd.spec, servedNames(crd), isEstablished(crd)]);
}

export interface CustomResourceServing {
  stop(): void;
  /** The definitions being served, by name (for tests and the admission checks). */
  served(): ReadonlyMap<string, CustomResourceDefinition>;
}

export function serveCustomResources(registry: Registry, logger: Logger): CustomResourceServing {
  const catalog = registry.resources;
  const state = new Map<string, Served>();

  const unserve = (name: string) => {
    const before = catalog.ownedBy(name);
    catalog.delete(name);
    for (const r of before) registry.clearStrategy(r);
    state.delete(name);
  };

  const serve = (crd: CustomResourceDefinition) => {
    const name = crd.metadata.name!;
    const prev = state.get(name);
    const signature = signatureOf(crd);
    if (prev) prev.crd = crd;
    if (prev?.signature === signature) return;
    if (!isEstablished(crd)) {
      if (prev) unserve(name);
      return;
    }
    const entry: Served = { signature, crd };
    const storage = storageVersion(crd);
    const resources = crdResources(crd);
    const before = catalog.ownedBy(name);
    for (const res of resources) {
      const version = crd.spec.versions.find((v) => v.name === res.version)!;
      const schema = version.schema?.openAPIV3Schema;
      try {
        // Compiled now, so the first object created pays nothing for it.
        if (schema) compileCustomSchema(schema);
      } catch (err) {
        logger.warn({ crd: name, version: res.version, err: (err as Error).message }, 'custom resource schema does not compile; serving without validation beyond structure');
      }
      registry.setStrategy(
        res,
        customResourceStrategy({
          res,
          version,
          storageApiVersion: `${crd.spec.group}/${storage}`,
          convert: crd.spec.versions.length > 1,
          definition: () => state.get(name)?.crd,
        }),
      );
      attachPrinter(res, customPrinter(version.additionalPrinterColumns));
      attachOpenAPI(res, customResourceComponents(res, schema));
    }
    state.set(name, entry);
    const refused = catalog.set(name, resources);
    for (const r of refused) {
      registry.clearStrategy(r);
      logger.warn({ crd: name, resource: `${r.plural}.${r.group}/${r.version}` }, 'custom resource conflicts with a resource already served; not served');
    }
    for (const r of before) if (!resources.includes(r)) registry.clearStrategy(r);
    if (!prev) logger.info({ crd: name, versions: resources.map((r) => r.version) }, 'serving custom resource');
  };

  const watch = registry.store.watch({ resource: R.customresourcedefinitions, initial: true }, (ev) => {
    const crd = ev.object as KObject as CustomResourceDefinition;
    try {
      if (ev.type === 'DELETED') unserve(crd.metadata.name!);
      else serve(crd);
    } catch (err) {
      logger.warn({ crd: crd.metadata.name, err: (err as Error).message }, 'custom resource definition could not be served');
    }
  });

  return {
    stop() {
      watch.stop();
    },
    served() {
      return new Map([...state].map(([n, s]) => [n, s.crd]));
    },
  };
}

