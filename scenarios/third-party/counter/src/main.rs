//! `counter-sim`: detsim's command line for the counter protocol, with every subcommand
//! (`run`, `repro`, `shrink`, `list`, `save-vector`).

fn main() -> std::process::ExitCode {
    scenarios::cli::Cli::new(counter::registry())
        .fuzzing(counter::fuzz_setup())
        .main()
}
