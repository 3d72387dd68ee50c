//! The `stem-master` command-line tool; see `stem-master --help`.

fn main() {
    let args = std::env::args_os().skip(1).collect();
    let status = stem_master::cli::run(args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(status);
}
