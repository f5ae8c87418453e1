fn main() {
    let code = netc_cli::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    let _ = std::io::Write::flush(&mut std::io::stdout()); // `exit` skips stdout's buffer
    std::process::exit(code);
}
