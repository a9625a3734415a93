//! The hosted pages (sign-in, consent, messages): Liquid templates from `templates/`, each
//! replaceable by a file of the same name in AUTHIFY_TEMPLATES_DIR, parsed at start-up. Every
//! value is HTML-escaped before it reaches a template, so a branded template cannot forget to.
//! Pages carry a strict Content-Security-Policy (no scripts, no framing) and are never cached.

use std::path::Path;

use liquid::{Object, Parser, ParserBuilder, Template};
use poem::Response;
use poem::http::StatusCode;

use crate::email::templates::{TemplateError, html_escape};

const DEFAULTS: [(&str, &str); 6] = [
    ("login.html.liquid", include_str!("../../templates/login.html.liquid")),
    ("consent.html.liquid", include_str!("../../templates/consent.html.liquid")),
    ("message.html.liquid", include_str!("../../templates/message.html.liquid")),
    ("pages.css", include_str!("../../templates/pages.css")),
    ("account.html.liquid", include_str!("../../templates/account.html.liquid")),
    ("passkeys.js", include_str!("../../templates/passkeys.js")),
];

/// The page templates, parsed.
pub struct Pages {
    login: Template,
    consent: Template,
    message: Template,
    account: Template,
    style: String,
    /// The passkey script (`/assets/passkeys.js`).
    script: String,
    /// Shown on every page (AUTHIFY_JWT_ISSUER, the organisation's name).
    service_name: String,
}

/// The Content-Security-Policy of every page: inline style and this origin's own script (the
/// passkey lines, which call this origin's API), no inline script; forms post to this origin (the
/// answer to a form may redirect to a client, which `form-action` would block in some browsers).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

impl Pages {
    pub fn load(dir: Option<&Path>, service_name: &str) -> Result<Self, TemplateError> {
        let parser = ParserBuilder::with_stdlib()
            .build()
            .map_err(|e| TemplateError { file: "(parser)".into(), reason: e.to_string() })?;
        let mut sources = Vec::with_capacity(DEFAULTS.len());
        for (name, builtin) in DEFAULTS {
            match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => {
                    let source = std::fs::read_to_string(&path)
                        .map_err(|e| TemplateError { file: path.display().to_string(), reason: e.to_string() })?;
                    sources.push((path.display().to_string(), source));
                }
                None => sources.push((format!("templates/{name} (built in)"), builtin.to_owned())),
            }
        }
        let parse = |parser: &Parser, (file, source): &(String, String)| {
            parser.parse(source).map_err(|e| TemplateError { file: file.clone(), reason: e.to_string() })
        };
        Ok(Self {
            login: parse(&parser, &sources[0])?,
            consent: parse(&parser, &sources[1])?,
            message: parse(&parser, &sources[2])?,
            account: parse(&parser, &sources[4])?,
            style: sources[3].1.clone(),
            script: sources[5].1.clone(),
            service_name: html_escape(service_name),
        })
    }

    pub fn login(&self, status: StatusCode, vars: Object) -> Response {
        self.render(&self.login, status, vars)
    }

    pub fn consent(&self, vars: Object) -> Response {
        self.render(&self.consent, StatusCode::OK, vars)
    }

    /// The signed-in user's account page (their passkeys).
    pub fn account(&self, vars: Object) -> Response {
        self.render(&self.account, StatusCode::OK, vars)
    }

    /// The passkey script the pages load; cached for an hour.
    pub fn script(&self) -> Response {
        Response::builder()
            .content_type("text/javascript; charset=utf-8")
            .header("X-Content-Type-Options", "nosniff")
            .header("Cache-Control", "public, max-age=3600")
            .body(self.script.clone())
    }

    /// A page with a title and one message (errors that must not redirect, signed out, …).
    pub fn message(&self, status: StatusCode, title: &str, message: &str) -> Response {
        let mut vars = Object::new();
        vars.insert("title".into(), liquid::model::Value::scalar(html_escape(title)));
        vars.insert("message".into(), liquid::model::Value::scalar(html_escape(message)));
        vars.insert(
            "is_error".into(),
            liquid::model::Value::scalar(status.is_client_error() || status.is_server_error()),
        );
        self.render(&self.message, status, vars)
    }

    fn render(&self, template: &Template, status: StatusCode, mut vars: Object) -> Response {
        vars.insert("style".into(), liquid::model::Value::scalar(self.style.clone()));
        vars.insert("service_name".into(), liquid::model::Value::scalar(self.service_name.clone()));
        let html = match template.render(&vars) {
            Ok(html) => html,
            Err(err) => {
                tracing::error!(error = %err, "a page template failed to render");
                return page_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>The page could not be shown.</p>".into(),
                );
            }
        };
        page_response(status, html)
    }
}

/// Template variables from `(name, text)` pairs, each HTML-escaped.
pub fn vars(pairs: &[(&str, &str)]) -> Object {
    let mut object = Object::new();
    for (name, value) in pairs {
        object.insert((*name).to_owned().into(), liquid::model::Value::scalar(html_escape(value)));
    }
    object
}

fn page_response(status: StatusCode, html: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .header("X-Frame-Options", "DENY")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-store")
        .body(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_pages_parse_and_escape_values() {
        let pages = Pages::load(None, "<b>Acme</b>").expect("pages");
        let mut vars = vars(&[
            ("client_name", ""),
            ("error", ""),
            ("email", "a\"b"),
            ("email_error", ""),
            ("password_error", ""),
            ("code_error", ""),
            ("csrf", "t"),
            ("request", ""),
            ("step", "password"),
            ("password", ""),
            ("passkeys", "on"),
            ("passkey_challenge_id", ""),
            ("passkey_options", ""),
        ]);
        vars.insert("scopes".into(), liquid::model::Value::Array(vec![]));
        vars.insert("providers".into(), liquid::model::Value::Array(vec![]));
        let response = pages.login(StatusCode::OK, vars);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(pages.message(StatusCode::BAD_REQUEST, "t", "m").status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get("content-security-policy").map(|v| v.to_str().unwrap_or_default()),
            Some(CONTENT_SECURITY_POLICY)
        );
    }
}
