//! Mail templates: Liquid, parsed once (built-in defaults from `templates/`, each replaceable by a
//! file of the same name in AUTHIFY_TEMPLATES_DIR) or per request (trusted delegates only).
//!
//! Rendering is bounded: the dialect (see [`super::dialect`]) has no loops and bounds a template's
//! size, filters, blocks and nesting when it is parsed and every filter's result when it renders;
//! the output is at most [`MAX_OUTPUT_BYTES`] a part, and a render that still takes longer than
//! [`RENDER_TIMEOUT`] fails.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use liquid::Template;

use super::dialect::{Dialect, one_line};
pub use super::dialect::{MAX_OUTPUT_BYTES, MAX_TEMPLATE_BYTES};
use super::lenient::Variables;
use crate::error::Error;

pub const RENDER_TIMEOUT: Duration = Duration::from_secs(2);

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Verify,
    Reset,
}

/// The three parts of one mail. `html` is absent when a request template gave a text body only.
#[derive(Clone)]
pub struct MailTemplates {
    subject: Arc<Template>,
    text: Arc<Template>,
    html: Option<Arc<Template>>,
}

/// Every mail's templates, parsed at start-up.
pub struct Templates {
    verify: MailTemplates,
    reset: MailTemplates,
}

/// A template that cannot be used: the file and Liquid's reason, on one line.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct TemplateError {
    pub file: String,
    pub reason: String,
}

const DEFAULTS: [(&str, &str); 6] = [
    ("verify.subject.liquid", include_str!("../../templates/verify.subject.liquid")),
    ("verify.text.liquid", include_str!("../../templates/verify.text.liquid")),
    ("verify.html.liquid", include_str!("../../templates/verify.html.liquid")),
    ("reset.subject.liquid", include_str!("../../templates/reset.subject.liquid")),
    ("reset.text.liquid", include_str!("../../templates/reset.text.liquid")),
    ("reset.html.liquid", include_str!("../../templates/reset.html.liquid")),
];

impl Templates {
    /// Parses the built-in templates, each replaced by the file of the same name in `dir` when it
    /// has one.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let dialect = Dialect::new().map_err(|e| TemplateError { file: "(parser)".into(), reason: e.to_string() })?;
        let mut parsed = Vec::with_capacity(DEFAULTS.len());
        for (name, builtin) in DEFAULTS {
            let (file, source) = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => {
                    let source = std::fs::read_to_string(&path)
                        .map_err(|e| TemplateError { file: path.display().to_string(), reason: e.to_string() })?;
                    (path.display().to_string(), source)
                }
                None => (format!("templates/{name} (built in)"), builtin.to_owned()),
            };
            let template = dialect.parse(&source).map_err(|reason| TemplateError { file, reason })?;
            parsed.push(Arc::new(template));
        }
        let mut parts = parsed.into_iter();
        let mut next =
            || parts.next().ok_or_else(|| TemplateError { file: "(internal)".into(), reason: "missing".into() });
        let verify = MailTemplates { subject: next()?, text: next()?, html: Some(next()?) };
        let reset = MailTemplates { subject: next()?, text: next()?, html: Some(next()?) };
        Ok(Self { verify, reset })
    }

    pub fn for_kind(&self, kind: MailKind) -> &MailTemplates {
        match kind {
            MailKind::Verify => &self.verify,
            MailKind::Reset => &self.reset,
        }
    }
}

/// Per-request templates as they arrived (`templates.email`); a value starting with `{base64}` is
/// decoded first.
#[derive(Debug, Clone, Default)]
pub struct RequestTemplates {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub html_body: Option<String>,
}

/// Per-request templates, parsed.
#[derive(Clone, Default)]
pub struct ParsedOverrides {
    subject: Option<Arc<Template>>,
    body: Option<Arc<Template>>,
    html_body: Option<Arc<Template>>,
}

impl RequestTemplates {
    /// Decodes and parses each given template: 422 naming the field and Liquid's reason.
    pub fn parse(&self) -> Result<ParsedOverrides, Error> {
        let dialect = Dialect::new().map_err(Error::internal)?;
        let one = |field: &str, raw: &Option<String>| -> Result<Option<Arc<Template>>, Error> {
            let Some(raw) = raw else { return Ok(None) };
            let source = decode(raw).map_err(|e| Error::TemplateInvalid(format!("{field}: {e}")))?;
            let template = dialect.parse(&source).map_err(|e| Error::TemplateInvalid(format!("{field}: {e}")))?;
            Ok(Some(Arc::new(template)))
        };
        Ok(ParsedOverrides {
            subject: one("subject", &self.subject)?,
            body: one("body", &self.body)?,
            html_body: one("html_body", &self.html_body)?,
        })
    }
}

/// Authify's `{base64}` prefix: the rest of the value is standard base64 of the template.
fn decode(raw: &str) -> Result<String, String> {
    let Some(encoded) = raw.strip_prefix("{base64}") else { return Ok(raw.to_owned()) };
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("invalid {{base64}} value: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the {base64} value is not UTF-8 text".to_owned())
}

impl MailTemplates {
    /// These templates with a request's overrides: its subject and body replace the defaults; its
    /// HTML body replaces the default one, and a text body given without an HTML body means a
    /// text-only mail (the default HTML would say something else).
    pub fn with_overrides(&self, overrides: &ParsedOverrides) -> MailTemplates {
        let html = match (&overrides.html_body, &overrides.body) {
            (Some(html), _) => Some(html.clone()),
            (None, Some(_)) => None,
            (None, None) => self.html.clone(),
        };
        MailTemplates {
            subject: overrides.subject.clone().unwrap_or_else(|| self.subject.clone()),
            text: overrides.body.clone().unwrap_or_else(|| self.text.clone()),
            html,
        }
    }
}

/// The values a mail template may use.
#[derive(Debug, Clone)]
pub struct MailVars {
    pub token: String,
    /// RFC 3339.
    pub valid_until: String,
    pub email: String,
    pub name: String,
    pub handle: String,
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Renders off the async threads with a deadline; any failure is a 422 with Liquid's reason.
pub async fn render(templates: MailTemplates, vars: MailVars) -> Result<RenderedMail, Error> {
    let job = tokio::task::spawn_blocking(move || render_blocking(&templates, &vars));
    match tokio::time::timeout(RENDER_TIMEOUT, job).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(Error::internal(join)),
        Err(_) => Err(Error::TemplateInvalid("rendering took too long".into())),
    }
}

fn render_blocking(templates: &MailTemplates, vars: &MailVars) -> Result<RenderedMail, Error> {
    let plain = variables(vars, |v| v.to_owned());
    let escaped = variables(vars, html_escape);
    let subject = render_part("subject", &templates.subject, &plain)?;
    let subject = one_line(&subject);
    let text = render_part("body", &templates.text, &plain)?;
    let html = templates.html.as_ref().map(|t| render_part("html_body", t, &escaped)).transpose()?;
    Ok(RenderedMail { subject, text, html })
}

fn variables(vars: &MailVars, convert: impl Fn(&str) -> String) -> Variables {
    Variables(liquid::object!({
        "token": convert(&vars.token),
        "valid_until": convert(&vars.valid_until),
        "email": convert(&vars.email),
        "name": convert(&vars.name),
        "handle": convert(&vars.handle),
    }))
}

fn render_part(field: &str, template: &Template, globals: &Variables) -> Result<String, Error> {
    let mut out = Bounded { bytes: Vec::new(), overflowed: false };
    let rendered = template.render_to(&mut out, globals);
    let invalid = |reason: String| Error::TemplateInvalid(format!("{field}: {reason}"));
    if out.overflowed {
        return Err(invalid(format!("output longer than {MAX_OUTPUT_BYTES} bytes")));
    }
    rendered.map_err(|e| invalid(render_reason(&e.to_string())))?;
    String::from_utf8(out.bytes).map_err(|_| invalid("output is not UTF-8".into()))
}

/// Liquid's render report on one line: its message and the filter at fault, without the rest of
/// its trace, which quotes the filter's whole input.
fn render_reason(report: &str) -> String {
    let message = report.lines().next().unwrap_or_default();
    let message = message.strip_prefix("liquid: ").unwrap_or(message);
    match report.lines().find_map(|l| l.trim_start().strip_prefix("filter=")) {
        Some(filter) => format!("{} (in `{}`)", one_line(message), filter.chars().take(80).collect::<String>()),
        None => one_line(message),
    }
}

/// A buffer that refuses to grow past [`MAX_OUTPUT_BYTES`].
struct Bounded {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(io::Error::other(format!("output longer than {MAX_OUTPUT_BYTES} bytes")));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Escapes a value for HTML text and attributes.
pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
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

    fn vars() -> MailVars {
        MailVars {
            token: "tok".into(),
            valid_until: "2026-01-01T00:00:00Z".into(),
            email: "a@b.c".into(),
            name: "<b>Bob</b>".into(),
            handle: "bob".into(),
        }
    }

    fn render_now(templates: &MailTemplates) -> RenderedMail {
        render_blocking(templates, &vars()).expect("render")
    }

    #[test]
    fn built_in_templates_parse_and_use_every_variable() {
        let templates = Templates::load(None).expect("defaults parse");
        let mail = render_now(templates.for_kind(MailKind::Verify));
        assert!(mail.text.contains("tok") && mail.text.contains("2026-01-01T00:00:00Z"), "{}", mail.text);
        assert!(mail.html.expect("html").contains("&lt;b&gt;Bob&lt;/b&gt;"));
    }

    #[test]
    fn unknown_variables_render_empty_and_base64_is_decoded() {
        let request = RequestTemplates {
            subject: Some("Hi {{ nobody }}{{ a.b.c }}{{ missing | default: 'x' }}".into()),
            body: Some("{base64}e3t0b2tlbn19".into()),
            html_body: None,
        };
        let defaults = Templates::load(None).expect("defaults parse");
        let templates = defaults.for_kind(MailKind::Reset).with_overrides(&request.parse().expect("parse"));
        let mail = render_now(&templates);
        assert_eq!((mail.subject.as_str(), mail.text.as_str(), mail.html), ("Hi x", "tok", None));
    }

    #[test]
    fn loops_assignments_and_broken_syntax_are_refused() {
        for bad in ["{% for i in (1..9) %}x{% endfor %}", "{% assign a = 'x' %}", "{{ unclosed", "{% if %}"] {
            let request = RequestTemplates { body: Some(bad.into()), ..Default::default() };
            assert!(matches!(request.parse(), Err(Error::TemplateInvalid(_))), "{bad}");
        }
        let broken = RequestTemplates { body: Some("{% if token %}oops".into()), ..Default::default() };
        let Err(Error::TemplateInvalid(reason)) = broken.parse() else { panic!("an unclosed block parses") };
        assert_eq!(reason, "body: line 1, column 19: Unclosed block. {% endif %} tag expected.");
        let huge = RequestTemplates { body: Some("x".repeat(MAX_TEMPLATE_BYTES + 1)), ..Default::default() };
        assert!(huge.parse().is_err());
    }

    #[test]
    fn output_is_bounded() {
        let request = RequestTemplates { body: Some("{{name}}".repeat(8000)), ..Default::default() };
        let parsed = request.parse().expect("parse");
        let templates = Templates::load(None).expect("defaults").for_kind(MailKind::Verify).with_overrides(&parsed);
        let long_name = MailVars { name: "n".repeat(1000), ..vars() };
        assert!(render_blocking(&templates, &long_name).is_err());
    }
}
