/**
 * Which pages of an executable a process has mapped, per ELF section (docs/prestart.md, "Where a
 * pre-started node's PSS is"): `node dist/bench/binary-pages.js PID [EXECUTABLE]` (root: it reads
 * /proc/PID/pagemap; EXECUTABLE defaults to /proc/PID/exe, and must be a non-PIE binary, whose
 * sections sit at their link addresses, as the image's node is). A page counts when its entry in
 * the page table is present.
 *
 * Mapped is not touched: a fault maps the 64 KiB around it of whatever is in the page cache. For
 * the touched pages only, run the process from a copy of the binary on a file system of its own
 * whose cache holds nothing else (a loop device with read-ahead off, remounted before each run):
 *   truncate -s 300M /tmp/b.img && mkfs.ext4 -q -F /tmp/b.img && L=$(losetup -f --show /tmp/b.img)
 *   mount $L /mnt/b && cp NODE /mnt/b/node && blockdev --setra 0 $L && umount /mnt/b && mount -o ro $L /mnt/b
 * then bind /mnt/b/node over the binary in the sandbox (bwrap --ro-bind); the kernel then reads one
 * page per fault and fault-around finds nothing else to map.
 */
import { execFileSync } from 'node:child_process';
import { openSync, readFileSync, readSync, closeSync } from 'node:fs';

const pid = Number(process.argv[2]);
if (!Number.isInteger(pid) || pid <= 0) {
  process.stderr.write('usage: binary-pages PID [EXECUTABLE]\n');
  process.exit(2);
}
const executable = process.argv[3] ?? `/proc/${pid}/exe`;
const PAGE = 4096;

/** The allocated sections (name, address, size) from readelf. */
function sections(file: string): { name: string; address: number; size: number }[] {
  const out: { name: string; address: number; size: number }[] = [];
  for (const line of execFileSync('readelf', ['-SW', file], { encoding: 'utf8', maxBuffer: 1 << 24 }).split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(line);
    if (m && parseInt(m[2]!, 16) > 0) out.push({ name: m[1]!, address: parseInt(m[2]!, 16), size: parseInt(m[3]!, 16) });
  }
  return out;
}

/** Page numbers present in PID's page table within the mappings of `exeName`. */
function presentPages(exeName: string): Set<number> {
  const present = new Set<number>();
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const f = line.split(/\s+/);
      if (f.length < 6 || f[5] !== exeName) continue;
      const [start, end] = f[0]!.split('-').map((x) => parseInt(x, 16)) as [number, number];
      const pages = (end - start) / PAGE;
      const buf = Buffer.alloc(pages * 8);
      readSync(fd, buf, 0, buf.length, (start / PAGE) * 8);
      for (let i = 0; i < pages; i++) if (buf.readBigUInt64LE(i * 8) >> 63n) present.add(start / PAGE + i);
    }
  } finally {
    closeSync(fd);
  }
  return present;
}

// The mappings name the file as the process sees it (its own mount namespace): its exe link's target.
const exeName = execFileSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8' }).trim();
const present = presentPages(exeName);
process.stdout.write(`${'section'.padEnd(24)} ${'size KiB'.padStart(9)} ${'mapped KiB'.padStart(10)}\n`);
let inSections = 0;
for (const s of sections(executable)) {
  let n = 0;
  for (let page = Math.floor(s.address / PAGE); page < Math.ceil((s.address + s.size) / PAGE); page++) if (present.has(page)) n++;
  inSections += n;
  if (n > 0) process.stdout.write(`${s.name.padEnd(24)} ${String(Math.round(s.size / 1024)).padStart(9)} ${String(n * 4).padStart(10)}\n`);
}
process.stdout.write(`all mappings of ${exeName}: ${present.size * 4} KiB mapped (about ${(present.size - inSections) * 4} KiB outside its sections' addresses: a second mapping of the file, e.g. V8's builtins)\n`);
