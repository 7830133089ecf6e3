//! The `lucet-wasi` command: a thin CLI over the library.

use clap::{Args, Parser, Subcommand};
use lucet_wasi::{
    Bytes, CompileCache, Engine, EngineConfig, Error, Limits, Module, PrecompiledProblem,
    TraceFilter, WasiInstance, WasmFeatures,
};
use std::path::PathBuf;
use std::process::ExitCode;

mod parse;
use parse::{parse_dir, parse_duration, parse_env, parse_limit, parse_trace_filter, parse_wasm};
use std::time::Duration;

const SIZES: &str = "Sizes are a whole number with an optional unit, case-insensitive: \
KiB, MiB, GiB, TiB are powers of 1024, KB, MB, GB, TB powers of 1000, and no unit means \
bytes (`2GiB`, `2 GiB`, `512MiB`, `4096`). Limits must be multiples of 4 KiB.

Wasm features: every WebAssembly 3.0 proposal Wasmtime supports is on: exceptions, gc, \
tail-call, function-references, multi-memory, memory64, relaxed-simd, extended-const, \
threads. `--wasm exceptions=n,gc=n` switches some off (gc needs function-references). A \
module precompiled with `compile` must run with the switches it was compiled with.

Threaded guests (wasm32-wasip1-threads: a shared memory, `wasi`.`thread-spawn`) run like \
any other: every thread shares the preopens, descriptors and stdio; `proc_exit` or a trap \
in any thread ends them all, and so does `_start` returning or `--timeout`. \
`--max-threads` caps the threads running at once (a spawn beyond it fails in the guest), \
`--stack-size` each thread's stack, `--max-heap-size` the shared memory.

WASI 0.2 components (wasm32-wasip2, componentize-py, ...: the wasi:cli/command world) run like core modules, told by content, under the same flags: `_start` is their wasi:cli/run; `exit` gives 0 or 1, `exit-with-code` its exact code. Their calls are not traced yet (--trace says so) nor counted (--stats gives time, memory, fuel); --tcplisten is for core modules only. Components exporting another world (wasi:http/proxy, ...) are refused.

Watching a guest: `--trace` prints one line per WASI or host call as it returns, strace-style (`path_open(3</data>, SYMLINK_FOLLOW, \"a.txt\", CREAT|TRUNC, ...) = 0 (fd 4</data/a.txt>) <0.000012>`: decoded arguments, the result or errno name, seconds taken); data is shown as an escaped prefix only. `--stats` prints time, peak memory and call counts after the run. RUST_LOG (e.g. `RUST_LOG=lucet_wasi=debug`) shows the runtime's own log: compile, cache, instantiate, run and exit events.";

/// Run a WebAssembly program compiled for WASI (wasi_snapshot_preview1, or a WASI 0.2
/// command component) in a sandbox.
#[derive(Parser)]
#[command(
    name = "lucet-wasi",
    version,
    after_help = SIZES,
    override_usage = "lucet-wasi [OPTIONS] <module> [--] [guest_args]...\n       lucet-wasi compile <module> -o <file>",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a .wasm or .wat module (or a WASI 0.2 component) ahead of time; the output
    /// runs without compiling.
    /// The output is sealed for this user: it runs without --allow-precompiled for them only.
    Compile(CompileArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Exported function to run
    #[arg(long, value_name = "name", default_value = "_start")]
    entrypoint: String,

    /// Preopen the host directory HOST at the guest path GUEST (repeatable); a bare PATH
    /// maps PATH to itself; a trailing `:ro` makes it read-only (`PATH:ro`,
    /// `guest:host:ro`)
    #[arg(long = "dir", value_name = "guest:host", value_parser = parse_dir)]
    dirs: Vec<(String, PathBuf, bool)>,

    /// Maximum linear memory (multiple of 4 KiB)
    #[arg(long, value_name = "size", default_value = "4GiB", value_parser = parse_limit)]
    max_heap_size: Bytes,

    /// Reserved address space (multiple of 4 KiB, >= max-heap-size)
    #[arg(long, value_name = "size", default_value = "8GiB", value_parser = parse_limit)]
    heap_address_space: Bytes,

    /// Maximum wasm stack (multiple of 4 KiB)
    #[arg(long, value_name = "size", default_value = "8MiB", value_parser = parse_limit)]
    stack_size: Bytes,

    /// Listen on this TCP address and hand the socket to the guest (repeatable); it gets
    /// the next descriptor after the --dir preopens
    #[arg(long, value_name = "addr:port")]
    tcplisten: Vec<std::net::SocketAddr>,

    /// Set an environment variable of the guest (repeatable)
    #[arg(long, value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,

    /// Pass the host's environment to the guest
    #[arg(long)]
    inherit_env: bool,

    /// End the guest after this long, with status 124 (e.g. `1s`, `500ms`, `2m`)
    #[arg(long, value_name = "duration", value_parser = parse_duration)]
    timeout: Option<Duration>,

    /// The most threads a threaded guest may run at once, besides its main thread
    #[arg(long, value_name = "n", default_value_t = 64)]
    max_threads: u32,

    #[command(flatten)]
    wasm: WasmArg,

    /// Trace the guest's WASI and host calls, one line each, to stderr or to FILE
    /// (`--trace=FILE`)
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "-"
    )]
    trace: Option<PathBuf>,

    /// Trace only these calls: WASI function names, comma-separated (e.g.
    /// `path_open,fd_readdir`); implies --trace
    #[arg(long, value_name = "call,...", value_parser = parse_trace_filter)]
    trace_filter: Option<TraceFilter>,

    /// After the run, print wall and CPU time, peak linear memory, fuel used and the
    /// calls made, by name, to stderr
    #[arg(long)]
    stats: bool,

    /// Compile the module without the compile cache, and store nothing in it. The cache
    /// (on by default for .wasm and .wat) lives in $LUCET_WASI_CACHE_DIR, else
    /// $XDG_CACHE_HOME/lucet-wasi, else ~/.cache/lucet-wasi
    #[arg(long)]
    no_cache: bool,

    /// Run a precompiled module that this user's `lucet-wasi compile` did not make (or
    /// that changed since). It is native code that runs on the host: only one you trust
    #[arg(long)]
    allow_precompiled: bool,

    #[arg(value_name = "module", required = true)]
    module: Option<PathBuf>,

    /// Arguments for the guest (put them after `--` if they start with `-`)
    #[arg(value_name = "guest_args")]
    guest_args: Vec<String>,
}

#[derive(Args)]
struct CompileArgs {
    /// The module to compile (.wasm or .wat, a core module or a component)
    #[arg(value_name = "module")]
    input: PathBuf,

    /// Where to write the precompiled module
    #[arg(short, long, value_name = "file")]
    output: PathBuf,

    /// Address space the module will run with (must match `--heap-address-space` at run)
    #[arg(long, value_name = "size", default_value = "8GiB", value_parser = parse_limit)]
    heap_address_space: Bytes,

    /// Compile in interruption checks, so the module can be run with `--timeout` (they
    /// cost compute-bound code speed; without them, `--timeout` refuses the module)
    #[arg(long)]
    timeout_capable: bool,
    #[command(flatten)]
    wasm: WasmArg,
}

#[derive(Args)]
struct WasmArg {
    /// Switch WebAssembly 3.0 proposals on or off, e.g. `exceptions=n,gc=n` (all are on
    /// by default)
    #[arg(long = "wasm", value_name = "name=y|n,...", value_parser = parse_wasm)]
    features: Option<WasmFeatures>,
}

impl WasmArg {
    fn features(&self) -> WasmFeatures {
        self.features.unwrap_or_default()
    }
}

fn main() -> ExitCode {
    // Never show a Rust panic or backtrace: one line, and the status of an internal error.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("error: internal error: {msg}");
        std::process::exit(70);
    }));
    // The runtime's own log (tracing): only when RUST_LOG asks for it.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Compile(args)) => compile(args).map(|()| 0),
        None => run(cli.run),
    };
    match result {
        Ok(code) => {
            // The OS keeps the status modulo 256; ExitCode takes a u8, so exit directly.
            std::process::exit(code)
        }
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(args: RunArgs) -> Result<i32, Error> {
    let limits = Limits::default()
        .max_heap(args.max_heap_size)
        .heap_address_space(args.heap_address_space)
        .stack(args.stack_size);
    if let Err(e) = limits.validate() {
        usage_error(&e);
    }
    let path = args.module.expect("clap requires <module>");
    // Interruption checks cost speed: compiled in only when a timeout asks for them.
    let config = EngineConfig::default()
        .heap_address_space(limits.heap_address_space)
        .stack(limits.stack)
        .timeout_capable(args.timeout.is_some())
        .wasm(args.wasm.features());
    let module = if Module::is_precompiled_file(&path) {
        // A precompiled file runs if this user's `compile` sealed it, or if the user
        // said to run it anyway.
        let load = |config: &EngineConfig| {
            let engine = Engine::shared(config)?;
            if args.allow_precompiled {
                // SAFETY: the user asked to run this file as they would a native
                // binary (`--allow-precompiled`, whose help says what it means).
                unsafe { Module::from_precompiled_file(&engine, &path) }
            } else {
                Module::from_sealed_file(&engine, &path)
            }
        };
        match load(&config) {
            // Compiled with timeout support and run without a timeout: it runs as it is.
            Err(Error::Precompiled {
                problem: PrecompiledProblem::TimeoutSupport { artifact: true },
                ..
            }) if !config.timeout_capable => load(&config.timeout_capable(true))?,
            loaded => loaded?,
        }
    } else {
        let engine = Engine::shared(&config)?;
        match cache(args.no_cache) {
            Some(cache) => Module::from_file_cached(&engine, &path, &cache)?,
            None => Module::from_file(&engine, &path)?,
        }
    };
    let mut builder = WasiInstance::builder()
        .module(&module)
        .max_heap(limits.max_heap)
        .max_threads(args.max_threads)
        .args(args.guest_args)
        .envs(args.env);
    if args.inherit_env {
        builder = builder.inherit_env();
    }
    for (guest, host, readonly) in args.dirs {
        builder = if readonly {
            builder.preopen_readonly(guest, host)
        } else {
            builder.preopen(guest, host)
        };
    }
    for addr in args.tcplisten {
        let listener =
            std::net::TcpListener::bind(addr).map_err(|source| Error::Listen { addr, source })?;
        builder = builder.preopen_socket(listener);
    }
    if let Some(t) = args.timeout {
        builder = builder.timeout(t);
    }
    let trace = match (args.trace, &args.trace_filter) {
        (Some(file), _) if file.as_os_str() != "-" => {
            let out = std::fs::File::create(&file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            Some(Box::new(std::io::BufWriter::new(out)) as Box<dyn std::io::Write + Send>)
        }
        (Some(_), _) | (None, Some(_)) => Some(Box::new(std::io::stderr()) as _),
        (None, None) => None,
    };
    if let Some(out) = trace {
        builder = builder.trace(out);
    }
    if let Some(filter) = args.trace_filter {
        builder = builder.trace_filter(filter);
    }
    if args.stats {
        builder = builder.collect_stats();
    }
    let mut instance = builder.build()?;
    let exit = instance.run(&args.entrypoint);
    if let Some(stats) = instance.stats() {
        eprint!("lucet-wasi stats:\n{stats}");
    }
    Ok(exit?.code())
}

/// The compile cache, unless switched off; a directory that cannot be used safely is
/// skipped with a warning (the module is compiled as without a cache).
fn cache(no_cache: bool) -> Option<CompileCache> {
    if no_cache {
        return None;
    }
    match CompileCache::new(CompileCache::default_dir()?) {
        Ok(cache) => Some(cache),
        Err(e) => {
            eprintln!("warning: not using the compile cache: {e}");
            None
        }
    }
}

fn compile(args: CompileArgs) -> Result<(), Error> {
    let engine = Engine::shared(
        &EngineConfig::default()
            .heap_address_space(args.heap_address_space)
            .timeout_capable(args.timeout_capable)
            .wasm(args.wasm.features()),
    )?;
    let artifact = Module::from_file(&engine, &args.input)?.serialize_sealed()?;
    std::fs::write(&args.output, artifact).map_err(|source| Error::Io {
        path: args.output.clone(),
        source,
    })
}

/// A limit that breaks a rule across flags is a usage error (status 2), like clap's.
fn usage_error(e: &Error) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ValueValidation, e)
        .exit()
}

fn report(e: &Error) {
    eprintln!("error: {e}");
    if let Error::Trap { backtrace, .. } = e {
        if !backtrace.is_empty() {
            eprint!("wasm backtrace:\n{backtrace}");
        }
    }
}
