// Human forms of ages and sizes for `status` and `doctor`.

/** "4 s", "3 min", "2 h 5 min", "3 d 4 h"; negative ages read "in the future". */
export function age(seconds: number): string {
  if (seconds < 0) return `${age(-seconds)} in the future`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

export function ago(seconds: number): string {
  return seconds < 0 ? age(seconds) : `${age(seconds)} ago`;
}

export function bytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}
