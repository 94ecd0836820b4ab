//! The site's HTML: an index page (a table of recordings with a filter box)
//! and one page per recording. Plain HTML and a little inline CSS and
//! JavaScript, so the site works from any static host or straight from
//! disk. Every piece of text that came from outside goes through `escape`.

use crate::SiteRecording;
use std::fmt::Write;

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}\
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}\
input{font-size:1rem;padding:.3rem .5rem;width:100%;max-width:24rem;margin-bottom:1rem}a{color:#0b5cad}";

fn page(title: &str, heading: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{heading}</h1>\n{body}</body>\n</html>\n",
        title = escape(title),
        heading = escape(heading),
    )
}

/// Bytes in binary units, as people read file sizes.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub(crate) fn index_page(title: &str, recordings: &[&SiteRecording]) -> String {
    let mut body = String::new();
    if recordings.is_empty() {
        body.push_str("<p>No recordings archived yet.</p>\n");
        return page(title, title, &body);
    }
    let _ = writeln!(
        body,
        "<p>{} recordings. <input id=\"filter\" type=\"search\" placeholder=\"Filter by topic, host or date\" aria-label=\"Filter recordings\"></p>",
        recordings.len()
    );
    body.push_str("<table id=\"recordings\">\n<thead><tr><th>Start</th><th>Topic</th><th>Host</th><th>Minutes</th><th>Files</th><th>Size</th></tr></thead>\n<tbody>\n");
    for r in recordings {
        let bytes: u64 = r.files.iter().map(|f| f.size).sum();
        let _ = writeln!(
            body,
            "<tr><td>{start}</td><td><a href=\"recordings/{slug}.html\">{topic}</a></td><td>{host}</td><td class=\"num\">{minutes}</td><td class=\"num\">{files}</td><td class=\"num\">{size}</td></tr>",
            start = escape(&r.start_time),
            slug = escape(&r.slug),
            topic = escape(&r.topic),
            host = escape(r.host.as_deref().unwrap_or("")),
            minutes = r.duration_minutes,
            files = r.files.len(),
            size = human_size(bytes),
        );
    }
    body.push_str("</tbody>\n</table>\n");
    body.push_str(
        "<script>\ndocument.getElementById('filter').addEventListener('input', function (e) {\n  \
         var q = e.target.value.toLowerCase();\n  \
         document.querySelectorAll('#recordings tbody tr').forEach(function (row) {\n    \
         row.style.display = row.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';\n  });\n});\n</script>\n",
    );
    page(title, title, &body)
}

pub(crate) fn recording_page(title: &str, r: &SiteRecording) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<p><a href=\"../index.html\">All recordings</a></p>");
    let _ = writeln!(
        body,
        "<dl>\n<dt>Start</dt><dd>{}</dd>\n<dt>Duration</dt><dd>{} minutes</dd>\n<dt>Host</dt><dd>{}</dd>\n<dt>Meeting UUID</dt><dd><code>{}</code></dd>\n</dl>",
        escape(&r.start_time),
        r.duration_minutes,
        escape(r.host.as_deref().unwrap_or("unknown")),
        escape(&r.uuid),
    );
    body.push_str(
        "<table>\n<thead><tr><th>File</th><th>Type</th><th>Size</th></tr></thead>\n<tbody>\n",
    );
    for f in &r.files {
        let _ = writeln!(
            body,
            "<tr><td><a href=\"{href}\">{label}</a></td><td>{file_type}</td><td class=\"num\">{size}</td></tr>",
            href = escape(&f.href),
            label = escape(&f.label),
            file_type = escape(&f.file_type),
            size = human_size(f.size),
        );
    }
    body.push_str("</tbody>\n</table>\n");
    page(&format!("{} - {title}", r.topic), &r.topic, &body)
}
