// Parsers for what host tools print while gathering an image's inputs (`busybox --list`, `ldd`).

/** Applet names safe to become /bin/<name> symlinks. */
const APPLET_RE = /^[A-Za-z0-9_.+[\]-]+$/;

export function parseAppletList(text: string): string[] {
  const names = new Set<string>();
  for (const raw of text.split('\n')) {
    const name = raw.trim();
    if (!name || name === '.' || name === '..' || name === 'busybox') continue;
    if (!APPLET_RE.test(name)) throw new Error(`busybox --list printed an unexpected applet name ${JSON.stringify(name)}`);
    names.add(name);
  }
  return [...names].sort();
}

/**
 * Absolute paths of the shared objects `ldd BINARY` lists, the dynamic loader included. The vDSO has no
 * file and is skipped; a "not found" library is an error, since the image could not start.
 */
export function parseLdd(text: string): string[] {
  const paths: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || /^statically linked$/.test(line) || /not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+)\s+=>\s+(.*)$/.exec(line);
    if (arrow) {
      const target = arrow[2].trim();
      if (target.startsWith('not found')) throw new Error(`ldd: ${arrow[1]} not found`);
      const m = /^(\/\S+)(?:\s+\(0x[0-9a-f]+\))?$/.exec(target);
      if (m) paths.push(m[1]);
      // "libfoo.so => (0x...)" is a vDSO-style entry without a file
      continue;
    }
    const direct = /^(\/\S+)(?:\s+\(0x[0-9a-f]+\))?$/.exec(line);
    if (direct) paths.push(direct[1]);
    // anything else ("linux-vdso.so.1 (0x...)") has no file
  }
  return [...new Set(paths)];
}
