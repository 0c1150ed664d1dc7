/**
 * Hugepages for the test bench: DPDK's multi-process mode needs them (a secondary process cannot map
 * a primary's --no-huge memory), and these machines reserve none by default.
 *
 * Owns: reserving 2 MiB pages (`/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`), mounting a
 * private hugetlbfs for them, and undoing both: the mount goes, and the reservation returns to what
 * it was before, also when the process exits without releasing. Fails with a clear error (and
 * changes nothing) when the kernel cannot give the pages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NR_HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages';
/** Most 2 MiB pages a test may take (256 MiB), so that tests stay small on shared machines. */
const MAX_PAGES = 128;

/** Reservations not yet released: released when the process exits, so a crashed test leaves none. */
const live = new Set<Hugepages>();
let exitHook = false;

/** A reservation of 2 MiB hugepages with its own hugetlbfs mount. */
export class Hugepages {
  /** The hugetlbfs mount to give the EAL (`[dpdk] huge_dir`). */
  readonly dir: string;
  readonly pages: number;
  readonly #before: number;
  #released = false;

  private constructor(dir: string, pages: number, before: number) {
    this.dir = dir;
    this.pages = pages;
    this.#before = before;
  }

  /** Reserves `pages` more 2 MiB pages (at most 128) and mounts a hugetlbfs for them. */
  static reserve(pages: number): Hugepages {
    if (!Number.isInteger(pages) || pages < 1 || pages > MAX_PAGES) {
      throw new RangeError(`hugepages: ${pages} pages asked for; a test takes 1..${MAX_PAGES} (2 MiB each)`);
    }
    const before = Number(readFileSync(NR_HUGEPAGES, 'utf8').trim());
    const want = before + pages;
    writeFileSync(NR_HUGEPAGES, String(want));
    const got = Number(readFileSync(NR_HUGEPAGES, 'utf8').trim());
    if (got < want) {
      writeFileSync(NR_HUGEPAGES, String(before));
      throw new Error(`hugepages: could not reserve ${pages} 2 MiB pages (${NR_HUGEPAGES} reached ${got} of ${want}); `
        + 'free memory or fragmentation stands in the way');
    }
    const dir = mkdtempSync(join(tmpdir(), 'ffnet-huge-'));
    try {
      execFileSync('mount', ['-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', dir], { stdio: 'pipe', timeout: 10_000 });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(NR_HUGEPAGES, String(before));
      throw new Error(`hugepages: mounting hugetlbfs at ${dir} failed: ${(err as Error).message}`);
    }
    const h = new Hugepages(dir, pages, before);
    live.add(h);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const r of [...live]) {
          try {
            r.release();
          } catch {
            /* at exit nothing more can be done */
          }
        }
      });
    }
    return h;
  }

  /** Unmounts (which frees what processes left in it) and restores the previous reservation. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    live.delete(this);
    try {
      execFileSync('umount', [this.dir], { stdio: 'pipe', timeout: 10_000 });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      writeFileSync(NR_HUGEPAGES, String(this.#before));
    }
  }
}
