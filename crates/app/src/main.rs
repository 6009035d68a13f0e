//! The `motcua` binary: parse the command line, run, map failures to exit codes
//! (2 for bad input or configuration, with one line on stderr).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    motcua::cli::main()
}
