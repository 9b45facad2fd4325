// One progress line on stderr for work that takes over about a second, only on a terminal, so
// logs, pipes and `--json` consumers never see it. Cleared before any result is printed.
let timer: NodeJS.Timeout | null = null;
let shown = false;

export function startProgress(what: string): void {
  if (!process.stderr.isTTY) return;
  timer = setTimeout(() => {
    shown = true;
    process.stderr.write(`memlens: ${what} …`);
  }, 1000);
}

export function clearProgress(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (shown) process.stderr.write('\r\x1b[K');
  shown = false;
}
