//! `detsim`: run scenario swarms, replay and shrink failures, list scenarios, record
//! test vectors — for the protocols detsim ships (see the `scenarios::cli` docs).

fn main() -> std::process::ExitCode {
    detsim::cli().main()
}
