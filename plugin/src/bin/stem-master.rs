//! The `stem-master` command-line tool; see `stem-master --help`.

fn main() {
    // Errors are reported as one line by `cli::run`. Should a bug still
    // panic, say so in one line too, with the status Rust uses for panics.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("stem-master: internal error{location}: {message} (please report this)");
    }));
    let args = std::env::args_os().skip(1).collect();
    let status = stem_master::cli::run(args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(status);
}
