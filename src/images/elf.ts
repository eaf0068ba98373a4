// Reads just enough of an ELF header to tell a static binary from one that needs a dynamic loader.
// A rootfs holds busybox alone, so a dynamically linked busybox (Debian's `busybox`, not
// `busybox-static`) would give images whose every command fails with "no such file or directory".

const PT_INTERP = 3;

export type ElfLinkage = 'static' | 'dynamic' | 'not-elf';

export function elfLinkage(buf: Uint8Array): ElfLinkage {
  if (buf.length < 52 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) return 'not-elf';
  const is64 = buf[4] === 2;
  const little = buf[5] === 1;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const phoff = is64 ? Number(view.getBigUint64(0x20, little)) : u32(0x1c);
  const phentsize = is64 ? u16(0x36) : u16(0x2a);
  const phnum = is64 ? u16(0x38) : u16(0x2c);
  if (phentsize === 0 || phoff + phentsize * phnum > buf.length) return 'not-elf';
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === PT_INTERP) return 'dynamic';
  }
  return 'static';
}
