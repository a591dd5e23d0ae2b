//! `b1bridge` binary: parses the command line and hands over to the library.
fn main() -> std::process::ExitCode {
    b1bridge::cli::run()
}
