//! The mail dialect: Liquid's standard library without the tags that loop, assign or include and
//! without the filters that multiply their input or work on arrays, and with bounds on what one
//! template may ask of a render, checked while it is parsed, so that a template that could keep a
//! render busy is refused before it runs (docs/limits.md):
//!
//! - at most [`MAX_TEMPLATE_BYTES`], with `[` nested at most [`MAX_NESTING`] deep anywhere in it
//!   (checked on the source: Liquid's parser recurses on `a[b[c]]` and panics when it runs out of
//!   stack);
//! - at most [`MAX_FILTERS`] filters and [`MAX_BLOCKS`] blocks, blocks nested at most
//!   [`MAX_NESTING`] deep (counted as Liquid parses them; deep nesting overflows its stack);
//! - no filter result longer than [`MAX_OUTPUT_BYTES`]: `escape`, `newline_to_br` or `url_encode`
//!   grow their input, and a chain of them grows a value past any output bound before it is
//!   written, copying it once a filter.
//!
//! Without loops each filter runs at most once a render, so a render makes at most [`MAX_FILTERS`]
//! filter calls, each on a value of at most [`MAX_OUTPUT_BYTES`].

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use liquid::{Parser, ParserBuilder, Template};
use liquid_core::parser::{
    BlockReflection, Filter, FilterArguments, FilterReflection, Language, ParseBlock, ParseFilter, TagBlock,
    TagTokenIter,
};
use liquid_core::runtime::{Renderable, Runtime};
use liquid_core::{Value, ValueView};
use liquid_lib::stdlib;

pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;
pub const MAX_FILTERS: usize = 100;
pub const MAX_BLOCKS: usize = 100;
pub const MAX_NESTING: usize = 8;

/// A bound a template went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Filters,
    Blocks,
    Nesting,
}

impl Bound {
    fn reason(self) -> String {
        match self {
            Bound::Filters => format!("more than {MAX_FILTERS} filters in one template"),
            Bound::Blocks => format!("more than {MAX_BLOCKS} blocks in one template"),
            Bound::Nesting => format!("blocks nested more than {MAX_NESTING} deep"),
        }
    }
}

/// What the template being parsed has asked for so far.
#[derive(Debug, Default)]
struct Budget {
    filters: AtomicUsize,
    blocks: AtomicUsize,
    depth: AtomicUsize,
    /// The first bound passed. Liquid's `comment` block ignores the errors of the tags inside it,
    /// so a refusal is kept here as well as returned.
    passed: Mutex<Option<Bound>>,
}

impl Budget {
    fn reset(&self) {
        self.filters.store(0, Ordering::Relaxed);
        self.blocks.store(0, Ordering::Relaxed);
        self.depth.store(0, Ordering::Relaxed);
        if let Ok(mut passed) = self.passed.lock() {
            *passed = None;
        }
    }

    fn refuse(&self, bound: Bound) -> liquid::Error {
        if let Ok(mut passed) = self.passed.lock() {
            passed.get_or_insert(bound);
        }
        liquid::Error::with_msg(bound.reason())
    }

    fn passed(&self) -> Option<Bound> {
        self.passed.lock().ok().and_then(|passed| *passed)
    }
}

/// A Liquid parser for the mail dialect; it checks one template at a time.
pub struct Dialect {
    parser: Parser,
    budget: Arc<Budget>,
}

impl Dialect {
    pub fn new() -> Result<Self, liquid::Error> {
        let budget = Arc::new(Budget::default());
        let mut builder = ParserBuilder::new();
        macro_rules! blocks {
            ($($b:ident),*) => { $(builder = builder.block(Nested { inner: stdlib::$b, budget: budget.clone() });)* };
        }
        macro_rules! filters {
            ($($f:ident),*) => { $(builder = builder.filter(Counted { inner: stdlib::$f, budget: budget.clone() });)* };
        }
        blocks!(RawBlock, IfBlock, UnlessBlock, CommentBlock, CaseBlock);
        filters!(
            Abs,
            Append,
            AtLeast,
            AtMost,
            Capitalize,
            Ceil,
            Date,
            Default,
            DividedBy,
            Downcase,
            Escape,
            EscapeOnce,
            Floor,
            Lstrip,
            Minus,
            Modulo,
            NewlineToBr,
            Plus,
            Prepend,
            Remove,
            RemoveFirst,
            ReplaceFirst,
            Round,
            Rstrip,
            Size,
            Slice,
            Strip,
            StripHtml,
            StripNewlines,
            Times,
            Truncate,
            TruncateWords,
            Upcase,
            UrlDecode,
            UrlEncode
        );
        Ok(Self { parser: builder.build()?, budget })
    }

    /// Parses one template; the reason it cannot be used, on one line.
    pub fn parse(&self, source: &str) -> Result<Template, String> {
        check_source(source)?;
        self.budget.reset();
        let parsed = self.parser.parse(source);
        if let Some(bound) = self.budget.passed() {
            return Err(bound.reason());
        }
        parsed.map_err(|e| liquid_reason(&e.to_string()))
    }
}

/// The bounds Liquid's parser cannot be trusted to survive, checked before it runs.
fn check_source(source: &str) -> Result<(), String> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(format!("longer than {MAX_TEMPLATE_BYTES} bytes"));
    }
    let mut depth = 0usize;
    for byte in source.bytes() {
        match byte {
            b'[' if depth == MAX_NESTING => return Err(format!("`[` nested more than {MAX_NESTING} deep")),
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Liquid's multi-line parse report (`--> 1:19`, the source line, `= Unclosed block. …`) as
/// `line 1, column 19: Unclosed block. …`; anything else collapsed onto one line.
fn liquid_reason(report: &str) -> String {
    let position = report.split("-->").nth(1).and_then(|rest| rest.split_whitespace().next());
    let message = report.lines().find_map(|l| l.trim_start().strip_prefix("= "));
    match (position.and_then(|p| p.split_once(':')), message) {
        (Some((line, column)), Some(message)) => format!("line {line}, column {column}: {}", one_line(message)),
        _ => one_line(report),
    }
}

pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A standard block, counted and its nesting tracked while it parses its contents.
#[derive(Clone)]
struct Nested<B> {
    inner: B,
    budget: Arc<Budget>,
}

impl<B: ParseBlock + Clone + 'static> ParseBlock for Nested<B> {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        block: TagBlock<'_, '_>,
        options: &Language,
    ) -> liquid_core::Result<Box<dyn Renderable>> {
        if self.budget.blocks.fetch_add(1, Ordering::Relaxed) >= MAX_BLOCKS {
            return Err(self.budget.refuse(Bound::Blocks));
        }
        if self.budget.depth.fetch_add(1, Ordering::Relaxed) >= MAX_NESTING {
            self.budget.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(self.budget.refuse(Bound::Nesting));
        }
        let parsed = self.inner.parse(arguments, block, options);
        self.budget.depth.fetch_sub(1, Ordering::Relaxed);
        parsed
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self.inner.reflection()
    }
}

/// A standard filter, counted when parsed and its results bounded when rendered.
#[derive(Clone)]
struct Counted<F> {
    inner: F,
    budget: Arc<Budget>,
}

impl<F: ParseFilter + Clone + 'static> ParseFilter for Counted<F> {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        if self.budget.filters.fetch_add(1, Ordering::Relaxed) >= MAX_FILTERS {
            return Err(self.budget.refuse(Bound::Filters));
        }
        Ok(Box::new(Capped(self.inner.parse(arguments)?)))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self.inner.reflection()
    }
}

/// A filter whose result may be at most [`MAX_OUTPUT_BYTES`] long.
#[derive(Debug)]
struct Capped(Box<dyn Filter>);

impl fmt::Display for Capped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for Capped {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let value = self.0.evaluate(input, runtime)?;
        match value.as_scalar() {
            Some(scalar) if scalar.to_kstr().len() > MAX_OUTPUT_BYTES => {
                Err(liquid::Error::with_msg(format!("a filter's result is longer than {MAX_OUTPUT_BYTES} bytes")))
            }
            _ => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(source: &str) -> String {
        Dialect::new().expect("parser").parse(source).err().expect("refused")
    }

    #[test]
    fn templates_at_each_bound_parse_and_one_past_it_are_refused() {
        let dialect = Dialect::new().expect("parser");
        let filters = format!("{{{{ token{} }}}}", " | upcase".repeat(MAX_FILTERS));
        let blocks = "{% if token %}x{% endif %}".repeat(MAX_BLOCKS);
        let nested = format!("{}x{}", "{% if a %}".repeat(MAX_NESTING), "{% endif %}".repeat(MAX_NESTING));
        let brackets = format!("{{{{ {}x{} }}}}", "a[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        for source in [&filters, &blocks, &nested, &brackets] {
            assert!(dialect.parse(source).is_ok(), "{source}");
        }
        assert_eq!(reason(&format!("{filters}{{{{ a | upcase }}}}")), "more than 100 filters in one template");
        assert_eq!(
            reason(&format!("{blocks}{{% unless a %}}{{% endunless %}}")),
            "more than 100 blocks in one template"
        );
        assert_eq!(reason(&format!("{{% if b %}}{nested}{{% endif %}}")), "blocks nested more than 8 deep");
        assert_eq!(reason(&format!("[{brackets}]")), "`[` nested more than 8 deep");
    }

    #[test]
    fn a_block_nested_too_deep_inside_a_comment_is_refused_too() {
        let nested = format!("{}x{}", "{% if a %}".repeat(MAX_NESTING), "{% endif %}".repeat(MAX_NESTING));
        assert_eq!(reason(&format!("{{% comment %}}{nested}{{% endcomment %}}")), "blocks nested more than 8 deep");
    }

    #[test]
    fn the_budget_is_per_template() {
        let dialect = Dialect::new().expect("parser");
        let filters = format!("{{{{ token{} }}}}", " | upcase".repeat(MAX_FILTERS));
        assert!(dialect.parse(&format!("{filters}{{{{ a | upcase }}}}")).is_err());
        assert!(dialect.parse(&filters).is_ok(), "a refusal does not carry over");
    }
}
