use std::process::ExitCode;

fn main() -> ExitCode {
    timctl::cli::main()
}
