/* zoomvault console: turning API values into text for the reader.
 *
 * Owns: timestamps (the protocol's epoch seconds) to milliseconds, dates,
 * times and durations, status names, indented JSON, clipping, and the
 * name at the end of an ARN.
 *
 * Must not: touch the DOM or return markup; everything here returns plain
 * strings, which the views insert as text.
 */

// The JSON protocol sends timestamps as epoch seconds; ISO text is
// accepted too so the page survives a server that sends it.
export function toMillis(value) {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

export function formatDate(ms) {
  if (ms === null || ms === undefined) return '\u2014';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatTime(ms) {
  if (ms === null || ms === undefined) return '\u2014';
  const d = new Date(ms);
  return `${formatDate(ms)}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return '\u2014';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// RUNNING -> Running, TIMED_OUT -> Timed out.
export function humanStatus(status) {
  const s = String(status || 'UNKNOWN').toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// Inputs and outputs travel as JSON text; shown indented when they parse.
export function prettyJson(text) {
  if (text === undefined || text === null) return '';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch (_) {
    return text;
  }
}

export function clip(text, length) {
  const s = String(text);
  return s.length > length ? s.slice(0, length - 1) + '\u2026' : s;
}

// The last field of an ARN: a state machine's or an execution's name.
export function nameFromArn(arn) {
  const parts = String(arn || '').split(':');
  return parts[parts.length - 1] || String(arn || '');
}
