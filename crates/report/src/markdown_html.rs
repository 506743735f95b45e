//! `report.md` as HTML for `report.html`: the same text and tables (pulldown-cmark, GitHub
//! tables), every figure inlined as a data URI so the page needs no file beside it (the SVG
//! the report drew when there is one, else the PNG), and every run id (`` `cnn-f0-s0-…` ``)
//! and link to a run's figure turned into a link to that run's detail on the page.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine as _;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

use crate::error::{ReportError, Result};

/// The HTML of `markdown`, whose figures are relative to `report_dir`; `run_ids` are the runs
/// the page has a detail for.
pub fn markdown_to_html(
    markdown: &str,
    report_dir: &Path,
    run_ids: &HashSet<String>,
) -> Result<String> {
    let mut events = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        events.push(match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Image {
                link_type,
                dest_url: CowStr::from(inline_figure(report_dir, &dest_url)?),
                title,
                id,
            }),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = match run_of_figure(&dest_url, run_ids) {
                    Some(run) => CowStr::from(format!("#run={run}")),
                    None => dest_url,
                };
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            Event::Code(code) if run_ids.contains(code.as_ref()) => Event::InlineHtml(
                format!(
                    "<a class=\"run-link\" href=\"#run={id}\"><code>{id}</code></a>",
                    id = escape(&code)
                )
                .into(),
            ),
            other => other,
        });
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    Ok(out)
}

/// The run a link to one of its report figures (`runs/<id>/<figure>.png`) is about.
fn run_of_figure<'a>(url: &'a str, run_ids: &HashSet<String>) -> Option<&'a str> {
    let id = url.strip_prefix("runs/")?.split('/').next()?;
    run_ids.contains(id).then_some(id)
}

/// The figure `relative` (a `.png` of the report folder) as a data URI: its SVG twin when the
/// report drew one (sharp at any zoom, and smaller), else the PNG.
fn inline_figure(report_dir: &Path, relative: &str) -> Result<String> {
    let png = report_dir.join(relative);
    let svg = png.with_extension("svg");
    let (path, mime) = if svg.is_file() {
        (svg, "image/svg+xml")
    } else {
        (png, "image/png")
    };
    let bytes = std::fs::read(&path).map_err(ReportError::io(&path))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{mime};base64,{encoded}"))
}

/// `text` safe inside HTML text and attribute values.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_inlined_and_run_ids_link_to_their_detail() -> Result<()> {
        let dir = tempfile::tempdir().map_err(ReportError::io(Path::new("tempdir")))?;
        std::fs::write(dir.path().join("a.png"), [137, 80, 78, 71])
            .map_err(ReportError::io(dir.path()))?;
        std::fs::write(dir.path().join("b.png"), [1]).map_err(ReportError::io(dir.path()))?;
        std::fs::write(dir.path().join("b.svg"), "<svg/>").map_err(ReportError::io(dir.path()))?;
        let ids: HashSet<String> = ["cnn-f0-s0-abc".to_string()].into();
        let md = "# T\n\n![A](a.png)\n\n![B](b.png)\n\n| run | x |\n|---|---|\n| `cnn-f0-s0-abc` | 1 |\n\n\
                  - [curves](runs/cnn-f0-s0-abc/curves.png), `other`\n";
        let html = markdown_to_html(md, dir.path(), &ids)?;
        assert!(
            html.contains("src=\"data:image/png;base64,iVBORw==\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"data:image/svg+xml;base64,PHN2Zy8+\""),
            "the SVG twin is preferred: {html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains(
                "<a class=\"run-link\" href=\"#run=cnn-f0-s0-abc\"><code>cnn-f0-s0-abc</code></a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"#run=cnn-f0-s0-abc\">curves</a>"),
            "{html}"
        );
        assert!(html.contains("<code>other</code>"), "{html}");
        Ok(())
    }

    #[test]
    fn a_missing_figure_is_an_error_naming_it() {
        match markdown_to_html("![A](gone.png)", Path::new("/nonexistent"), &HashSet::new()) {
            Err(err) => assert!(err.to_string().contains("gone.png"), "{err}"),
            Ok(html) => panic!("a missing figure gave a page: {html}"),
        }
    }
}
