// Small numeric helpers shared by the sections and the report.

/** Nearest-rank quantile of raw samples (q in [0, 1]). */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function median(values) {
  return quantile(values, 0.5);
}

export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

export function mean(values) {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

/** Largest relative deviation from the mean, in percent (fairness of per-worker shares). */
export function maxDeviationPct(values) {
  const m = mean(values);
  if (!(m > 0)) return NaN;
  return Math.max(...values.map((v) => Math.abs(v - m) / m)) * 100;
}

export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

/** 12345.6 → "12,346"; 12.345 → "12.3"; 0.01234 → "0.0123". */
export function fmt(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return '∞';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function fmtRatio(value) {
  return Number.isFinite(value) ? `${fmt(value, value >= 10 ? 1 : 2)}×` : '—';
}

export function fmtBytes(bytes) {
  if (!Number.isFinite(bytes)) return '—';
  const MiB = 1024 * 1024;
  return bytes >= MiB ? `${fmt(bytes / MiB, 1)} MiB` : `${fmt(bytes / 1024, 0)} KiB`;
}
