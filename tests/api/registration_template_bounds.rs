//! Bounds on request templates (docs/limits.md): a template that could make a render long or deep
//! is refused with 422 `Invalid template: …` naming the bound, before it renders; a value that a
//! filter chain grows past the output bound stops the render at that filter.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::registration::{signup, start_with_sink};
use crate::support::app::Backend;

backend_tests!(
    a_template_of_thousands_of_filters_is_refused_before_it_renders,
    a_filter_chain_that_grows_its_value_stops_at_the_output_bound,
    templates_nested_deeper_than_the_bound_are_refused,
    a_template_within_the_bounds_renders,
);

/// Signs `email` up with `body` as the request's text template; returns status and answer.
async fn signup_with_body(app: &crate::support::app::TestApp, email: &str, body: &str) -> (u16, Value) {
    let templates = json!({"email": {"subject": "Hi {{ handle }}", "body": body}});
    signup(app, json!({"email": email, "password": "long enough", "templates": templates})).await
}

fn reason(answer: &Value) -> &str {
    let error = answer["error"].as_str().expect("error");
    error.strip_prefix("Invalid template: body: ").unwrap_or_else(|| panic!("not a template error: {error}"))
}

async fn a_template_of_thousands_of_filters_is_refused_before_it_renders(backend: Backend) {
    let (app, _sink) = start_with_sink(backend, |s| s.request_templates_for_all = true).await;
    // The review's template: 63 KB of chained `append`s (2.4 s of CPU, most of it after the 422).
    let appends = format!("{{{{ \"x\"{} }}}}", " | append: \"x\"".repeat(4000));
    let (status, answer) = signup_with_body(&app, "appends@example.com", &appends).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(reason(&answer), "more than 100 filters in one template");
    // One that doubles nothing but escapes a growing run of `&`s thousands of times.
    let escapes = format!("{{{{ \"{}\"{} }}}}", "&".repeat(10_000), " | escape".repeat(5000));
    let (status, answer) = signup_with_body(&app, "escapes@example.com", &escapes).await;
    assert_eq!((status, reason(&answer)), (422, "more than 100 filters in one template"));
    assert!(app.state.store.user_by_email("appends@example.com").await.expect("lookup").is_none());
}

async fn a_filter_chain_that_grows_its_value_stops_at_the_output_bound(backend: Backend) {
    let (app, _sink) = start_with_sink(backend, |s| s.request_templates_for_all = true).await;
    // Within the filter bound, each `newline_to_br` adds 6 bytes a newline: 20,000 newlines pass
    // 256 KiB at the third filter of the chain, and the render stops there.
    let growing = format!("{{{{ \"{}\"{} | size }}}}", "\n".repeat(20_000), " | newline_to_br".repeat(90));
    let (status, answer) = signup_with_body(&app, "grows@example.com", &growing).await;
    assert_eq!(status, 422, "{answer}");
    let reason = reason(&answer);
    assert!(reason.contains("a filter's result is longer than 262144 bytes"), "{reason}");
    assert!(reason.len() < 400, "the reason does not quote the value: {} bytes", reason.len());
}

async fn templates_nested_deeper_than_the_bound_are_refused(backend: Backend) {
    let (app, _sink) = start_with_sink(backend, |s| s.request_templates_for_all = true).await;
    let ifs = format!("{}x{}", "{% if token %}".repeat(9), "{% endif %}".repeat(9));
    let (status, answer) = signup_with_body(&app, "ifs@example.com", &ifs).await;
    assert_eq!((status, reason(&answer)), (422, "blocks nested more than 8 deep"));
    let brackets = format!("{{{{ {}token{} }}}}", "a[".repeat(9), "]".repeat(9));
    let (status, answer) = signup_with_body(&app, "brackets@example.com", &brackets).await;
    assert_eq!((status, reason(&answer)), (422, "`[` nested more than 8 deep"));
    let blocks = "{% if token %}x{% endif %}".repeat(101);
    let (status, answer) = signup_with_body(&app, "blocks@example.com", &blocks).await;
    assert_eq!((status, reason(&answer)), (422, "more than 100 blocks in one template"));
}

async fn a_template_within_the_bounds_renders(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |s| s.request_templates_for_all = true).await;
    let chain = " | append: \"!\"".repeat(9);
    let nested = format!("{}{{{{ token{chain} }}}}{}", "{% if token %}".repeat(8), "{% endif %}".repeat(8));
    let body = format!("{nested}\n{{{{ handle | upcase | prepend: \"@\" }}}}\n{}", "{{ email }}".repeat(90));
    let (status, answer) = signup_with_body(&app, "fine@example.com", &body).await;
    assert_eq!(status, 200, "{answer}");
    let mail = sink.wait_for("fine@example.com", 1).await.pop().expect("mail");
    let mut lines = mail.text.lines();
    assert!(lines.next().expect("token line").ends_with("!!!!!!!!!"), "{}", mail.text);
    assert_eq!(lines.next(), Some("@FINE"));
    assert_eq!(lines.next().expect("emails").matches("fine@example.com").count(), 90);
}
