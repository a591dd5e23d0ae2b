//! `b1bridge openapi | head`: a reader that stops early is no error (no panic, no backtrace,
//! exit 0), and the whole document still comes out for a reader that reads it all.
use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn openapi_into_a_closed_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b1bridge"))
        .arg("openapi")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Read a little, as `head` does, then close the pipe: the document (well over a pipe's
    // 64 KiB buffer) cannot all be written, so the writer meets EPIPE.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"{"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        b1bridge::http::openapi_json().len() > 64 * 1024 + 64,
        "the document outgrows a pipe buffer, so the test meets a broken pipe"
    );
}
