use std::process::ExitCode;

fn main() -> ExitCode {
    timctl::commands::main()
}
