import type { BuildEvent } from '../images/builder.js';

/**
 * Prints build progress on stderr: steps always; the tools' own log lines as one updating
 * status line on a terminal, or in full otherwise (CI logs), or not at all when quiet.
 */
export function progressPrinter(options: { quiet?: boolean } = {}): (event: BuildEvent) => void {
  const tty = process.stderr.isTTY === true;
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) process.stderr.write('\r\x1b[2K');
    statusShown = false;
  };
  return (event) => {
    if (event.kind === 'log') {
      if (options.quiet) return;
      if (tty) {
        const width = Math.max(20, (process.stderr.columns ?? 80) - 4);
        process.stderr.write(`\r\x1b[2K   ${event.message.slice(0, width)}`);
        statusShown = true;
      } else {
        process.stderr.write(`   ${event.message}\n`);
      }
      return;
    }
    clearStatus();
    const mark = event.kind === 'done' ? '✓' : event.kind === 'skip' ? '-' : '==>';
    process.stderr.write(`${mark} [${event.image}] ${event.message}\n`);
  };
}
