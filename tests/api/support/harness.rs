//! The test harness of this binary (`harness = false`, run by libtest-mimic): every test registers
//! itself with [`backend_tests!`](crate::backend_tests) or [`plain_tests!`](crate::plain_tests)
//! (an [`inventory`] entry each) and becomes one trial per backend, or one trial, named after its
//! path as libtest would name it (`lockout::some_test::sqlite`, `jwt::some_plain_test`). A trial
//! that needs a server whose URL variable is unset or blank is marked ignored when the binary starts.

use std::backtrace::BacktraceStatus;
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::pin::Pin;

use clap::{CommandFactory, FromArgMatches};
use libtest_mimic::{Arguments, FormatSetting, Trial};

use crate::support::app::{Backend, env_url};

/// What `async fn` test bodies return once boxed.
pub type TestFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One registered test function.
pub struct Test {
    /// `module_path!()` where the test was registered.
    pub module: &'static str,
    pub name: &'static str,
    pub body: Body,
    pub options: Options,
}

inventory::collect!(Test);

pub enum Body {
    /// `fn name()`, as under `#[test]`.
    Sync(fn()),
    /// `async fn name()`, as under `#[tokio::test]`.
    Async(fn() -> TestFuture),
    /// `async fn name(backend: Backend)`: one trial per backend.
    Backends(fn(Backend) -> TestFuture),
}

/// How a test runs; built by the `key = value` list before the `;` of `plain_tests!`.
#[derive(Clone, Copy)]
pub struct Options {
    multi_thread: bool,
    worker_threads: Option<usize>,
    requires_env: Option<&'static str>,
}

impl Options {
    /// A current-thread runtime, as `#[tokio::test]`'s default.
    pub const fn new() -> Self {
        Self { multi_thread: false, worker_threads: None, requires_env: None }
    }

    /// `"current_thread"` or `"multi_thread"`, as in `#[tokio::test(flavor = …)]`.
    #[allow(dead_code, reason = "no test needs a multi-thread runtime yet")]
    pub const fn flavor(mut self, flavor: &str) -> Self {
        self.multi_thread = match flavor.as_bytes() {
            b"current_thread" => false,
            b"multi_thread" => true,
            _ => panic!("flavor is \"current_thread\" or \"multi_thread\""),
        };
        self
    }

    /// As in `#[tokio::test(flavor = "multi_thread", worker_threads = …)]`.
    #[allow(dead_code, reason = "no test needs a multi-thread runtime yet")]
    pub const fn worker_threads(mut self, threads: usize) -> Self {
        assert!(self.multi_thread, "worker_threads needs flavor = \"multi_thread\" before it");
        self.worker_threads = Some(threads);
        self
    }

    /// The test is ignored when the environment variable `var` is unset or blank.
    pub const fn requires_env(mut self, var: &'static str) -> Self {
        self.requires_env = Some(var);
        self
    }

    /// A fresh runtime for one trial.
    fn runtime(self) -> tokio::runtime::Runtime {
        let mut builder = if self.multi_thread {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(threads) = self.worker_threads {
                builder.worker_threads(threads);
            }
            builder
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        builder.enable_all().build().expect("the test's tokio runtime")
    }
}

/// Parses libtest's arguments, runs the selected trials and exits with libtest's status.
pub fn main() -> ! {
    let (mut args, filters) = arguments();
    let mut trials = trials();
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    select(&mut args, &filters, &trials);
    if !args.nocapture {
        capture_panics();
    }
    if args.list {
        // libtest-mimic lists the names only; libtest closes the list with a count.
        let listed = trials.iter().filter(|trial| !args.is_filtered_out(trial)).count();
        let conclusion = libtest_mimic::run(&args, trials);
        if !args.quiet && matches!(args.format, None | Some(FormatSetting::Pretty)) {
            println!("\n{listed} tests, 0 benchmarks");
        }
        conclusion.exit();
    }
    libtest_mimic::run(&args, trials).exit()
}

/// libtest-mimic's arguments, but with any number of filters (libtest runs a test matching any).
fn arguments() -> (Arguments, Vec<String>) {
    let command = Arguments::command().mut_arg("filter", |arg| arg.action(clap::ArgAction::Append).num_args(1..));
    let mut matches = command.get_matches();
    let filters = matches.remove_many::<String>("filter").map(Iterator::collect).unwrap_or_default();
    let args = Arguments::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    (args, filters)
}

/// Applies the filters and `--skip` patterns as libtest does and hands the result to libtest-mimic
/// (which takes one filter only) as an exact `--skip` of each trial left out, so that its summary
/// still counts them as filtered out.
fn select(args: &mut Arguments, filters: &[String], trials: &[Trial]) {
    if filters.is_empty() && args.skip.is_empty() {
        return;
    }
    let hit = |name: &str, pattern: &String| if args.exact { name == pattern } else { name.contains(pattern.as_str()) };
    let left_out = trials
        .iter()
        .map(Trial::name)
        .filter(|name| {
            (!filters.is_empty() && !filters.iter().any(|filter| hit(name, filter)))
                || args.skip.iter().any(|skip| hit(name, skip))
        })
        .map(str::to_owned)
        .collect();
    args.skip = left_out;
    args.exact = true;
}

/// Every registered test as trials.
fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for test in inventory::iter::<Test> {
        let name = match test.module.split_once("::") {
            Some((_crate, module)) => format!("{module}::{}", test.name),
            None => test.name.to_owned(),
        };
        let options = test.options;
        match test.body {
            Body::Sync(body) => trials.push(trial(name, options.requires_env, move |_| body())),
            Body::Async(body) => {
                trials.push(trial(name, options.requires_env, move |_| options.runtime().block_on(body())))
            }
            Body::Backends(body) => {
                let run = move |backend| options.runtime().block_on(body(backend));
                // A test that also requires a variable is ignored on every backend while it is unset.
                let extra = options.requires_env;
                trials.push(trial(format!("{name}::sqlite"), extra, move |_| run(Backend::Sqlite)));
                for (variant, var) in Backend::SERVERS {
                    let needs = extra.filter(|extra| env_url(extra).is_none()).unwrap_or(var);
                    trials.push(trial(format!("{name}::{variant}"), Some(needs), move |_| {
                        run(Backend::Server(env_url(var).expect("the server URL")))
                    }));
                }
            }
        }
    }
    let stray = stray_test_attributes();
    if !stray.is_empty() {
        trials.push(Trial::test("harness::stray_test_attributes", move || {
            Err(format!(
                "#[test] and #[tokio::test] do nothing in this binary (harness = false); register these \
                 tests with plain_tests! (tests/api/support/app.rs) instead:\n{}",
                stray.join("\n")
            )
            .into())
        }));
    }
    trials
}

/// A trial running `run`; if it requires the environment variable `var`, it is ignored while `var`
/// is unset or blank and gets its value otherwise. The body runs on a thread of its own: a trial
/// still running after [`time_limit`] fails, naming itself, and the run goes on without it (its
/// thread is left behind), where a hang would otherwise hold the whole run until CI's deadline.
fn trial(name: String, var: Option<&'static str>, run: impl FnOnce(Option<String>) + Send + 'static) -> Trial {
    let value = var.and_then(env_url);
    let ignored = var.is_some() && value.is_none();
    let label = name.clone();
    Trial::test(name, move || {
        if let (Some(var), None) = (var, &value) {
            return Err(format!("{var} is unset or blank: this test needs it").into());
        }
        let started = std::time::Instant::now();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(label.clone())
            .spawn(move || {
                let outcome = crate::support::app::dropping_databases_after(|| run_capturing_panics(|| run(value)));
                let _ = sender.send(outcome);
            })
            .map_err(|error| format!("the test's thread: {error}"))?;
        let limit = time_limit();
        match receiver.recv_timeout(limit) {
            Ok(outcome) => {
                record_duration(&label, started.elapsed());
                outcome.map_err(Into::into)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "still running after {} s (AUTHIFY_TEST_TIME_LIMIT_SECONDS): it hangs; its thread is left behind",
                limit.as_secs()
            )
            .into()),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err("the test's thread ended without an outcome".into())
            }
        }
    })
    .with_ignored_flag(ignored)
}

/// Appends `name` and its wall-clock seconds as a line to the file named by
/// `AUTHIFY_TEST_DURATIONS`, if it is set: what to look at when the suite gets slow (CI has a
/// 30-minute budget).
fn record_duration(name: &str, took: std::time::Duration) {
    use std::io::Write;
    let Some(path) = env_url("AUTHIFY_TEST_DURATIONS") else { return };
    let line = format!("{:.2}\t{name}\n", took.as_secs_f64());
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// How long one trial may run: `AUTHIFY_TEST_TIME_LIMIT_SECONDS`, 300 s by default (the slowest
/// trial takes well under a minute).
fn time_limit() -> std::time::Duration {
    let seconds = env_url("AUTHIFY_TEST_TIME_LIMIT_SECONDS").and_then(|s| s.trim().parse().ok()).unwrap_or(300);
    std::time::Duration::from_secs(seconds)
}

/// Runs `body`, turning its panics (and those of tasks on its thread) into the failure's report.
fn run_capturing_panics(body: impl FnOnce()) -> Result<(), String> {
    PANICS.set(Some(String::new()));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(body));
    let report = PANICS.take().unwrap_or_default();
    match outcome {
        Ok(()) => Ok(()),
        Err(_) if !report.is_empty() => Err(report.trim_end().to_owned()),
        Err(payload) => Err(payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or(payload.downcast_ref::<&str>().copied())
            .unwrap_or("the test panicked")
            .to_owned()),
    }
}

thread_local! {
    /// The panics of the trial running on this thread, while one is.
    static PANICS: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics on a trial's thread (its own, its current-thread runtime's tasks') become part of its
/// failure report instead of lines on stderr that name no test, as libtest's capture does: a panic
/// that does not fail the test is not shown. `--nocapture` keeps the default.
fn capture_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let captured = PANICS.with_borrow_mut(|report| {
            let Some(report) = report else { return false };
            let backtrace = std::backtrace::Backtrace::capture();
            report.push_str(&format!("{info}\n"));
            if backtrace.status() == BacktraceStatus::Captured {
                report.push_str(&format!("stack backtrace:\n{backtrace}\n"));
            }
            true
        });
        if !captured {
            default(info);
        }
    }));
}

/// `file:line` of every `#[test]` / `#[tokio::test]` under tests/api: without libtest's harness
/// they compile to nothing, so a test written the usual way would silently never run.
fn stray_test_attributes() -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api")];
    while let Some(dir) = dirs.pop() {
        for path in std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (index, line) in text.lines().enumerate() {
                    let line = line.trim_start();
                    if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
                        found.push(format!("{}:{}", path.display(), index + 1));
                    }
                }
            }
        }
    }
    found.sort();
    found
}
