//! rast.toml(5), made from docs/config.md when `rast manpages` runs, so the man page and
//! the web page can never disagree (a unit test in cli/src/config.rs keeps that page in
//! step with the configuration structs).
//!
//! The page is read at compile time. Only the shapes docs/config.md uses are understood:
//! `#`/`##`/`###` headings, paragraphs, fenced code blocks and tables whose first column
//! is the key; each table row becomes one tagged paragraph (`.TP`) in the man page.

use roff::{bold, roman, Roff};

const CONFIG_MD: &str = include_str!("../../docs/config.md");

/// The roff source of rast.toml(5).
pub fn render() -> String {
    let mut page = Roff::new();
    page.control(
        "TH",
        ["RAST.TOML", "5", "", env!("CARGO_PKG_VERSION"), "rast"],
    );
    page.control("SH", ["NAME"]);
    page.text([roman("rast.toml - configuration of rast and rast-agent")]);
    page.control("SH", ["DESCRIPTION"]);
    let mut header: Vec<String> = Vec::new();
    let mut lines = CONFIG_MD.lines().peekable();
    let mut paragraph = String::new();
    let flush = |page: &mut Roff, paragraph: &mut String| {
        if !paragraph.is_empty() {
            page.control("PP", []);
            page.text([roman(plain(paragraph))]);
            paragraph.clear();
        }
    };
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if line.starts_with("# ") {
            continue; // the title: NAME says it
        } else if let Some(h) = line.strip_prefix("### ") {
            flush(&mut page, &mut paragraph);
            page.control("SS", [plain(h).as_str()]);
        } else if let Some(h) = line.strip_prefix("## ") {
            flush(&mut page, &mut paragraph);
            page.control("SH", [plain(h).to_uppercase().as_str()]);
        } else if line.starts_with("```") {
            flush(&mut page, &mut paragraph);
            page.control("PP", []);
            page.control("nf", []);
            for code in lines.by_ref() {
                if code.starts_with("```") {
                    break;
                }
                page.text([roman(code)]);
            }
            page.control("fi", []);
        } else if line.starts_with('|') {
            flush(&mut page, &mut paragraph);
            let cells = cells(line);
            if cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue; // the separator row
            }
            if header.is_empty() {
                header = cells;
                continue;
            }
            page.control("TP", []);
            page.text([bold(cells[0].as_str())]);
            let mut body = String::new();
            for (name, value) in header.iter().zip(&cells).skip(1) {
                if name == "what" {
                    body.push_str(value);
                } else {
                    body.push_str(&format!("{name}: {value}. "));
                }
            }
            page.text([roman(body.trim())]);
        } else if line.is_empty() {
            flush(&mut page, &mut paragraph);
            header.clear();
        } else {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(line);
        }
    }
    flush(&mut page, &mut paragraph);
    page.control("SH", ["SEE ALSO"]);
    page.text([roman(
        "rast(8), rast-config(8), rast-agent(8), rast-backup(8)",
    )]);
    page.render()
}

/// The cells of a table row, trimmed and without code backticks.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(plain).collect()
}

/// Markdown's inline marks dropped: man pages show the words.
fn plain(text: &str) -> String {
    text.replace('`', "").replace("**", "").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_key_is_a_tagged_paragraph() {
        let page = render();
        for key in ["socket", "llm_url", "allow", "retry_timeout", "every", "at"] {
            assert!(
                page.contains(&format!(".TP\n\\fB{key}\\fR")),
                "rast.toml(5) lacks {key}:\n{page}"
            );
        }
        let rows = CONFIG_MD.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(page.matches(".TP\n").count(), rows);
        assert!(
            page.contains(".SS [backup.schedule]"),
            "sections become headings:\n{page}"
        );
        assert!(page
            .contains("default: \"30s\". example: \"2m\". how long one request may keep retrying"));
    }
}
