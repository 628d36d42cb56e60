//! A repro file pins what its case drew from, so that a later detsim replays it.

use scenarios::repro::Repro;
use scenarios::run_case;

#[test]
fn a_repro_of_default_random_faults_lists_the_kinds_they_drew_from() {
    let text = "protocol = \"raft\"\nduration = \"5s\"\n[random_faults]\nstart = \"1s\"\n";
    let registry = detsim::registry();
    let scenario = registry.parse(text, None).unwrap();
    let result = run_case(&scenario, "detsim-raft", 3);
    let file = Repro::of(&scenario, &result).to_toml(None);
    assert!(
        file.contains("kinds = [\"crash\", \"pause\", \"partition\", \"one_way\", \"isolate\", \"clog\", \"clock_skew\", \"crash_point\", \"link\", \"clock_drift\", \"heal\", \"pause_point\", \"isolate_point\"]"),
        "{file}"
    );
    // Raft's fault model times the generator by its 150 ms election timeout, and a
    // cluster of 3 may have 2 nodes down (a quorum taken away); the file pins both, and
    // the pace.
    for pinned in [
        "mean_interval = \"300ms\"",
        "tempo = \"varied\"",
        "outage_min = \"15ms\"",
        "outage_max = \"15s\"",
        "max_down = 2",
        "unsynced_kept = \"0/1\"",
    ] {
        assert!(file.contains(pinned), "{pinned} in {file}");
    }
    let path = std::env::temp_dir().join(format!("repro-pins-{}.toml", std::process::id()));
    std::fs::write(&path, &file).unwrap();
    let replayed = Repro::load(&registry, &path).unwrap();
    let again = run_case(&replayed.scenario, "detsim-raft", 3);
    assert!(replayed.matches(&again), "the pinned file replays the case");
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_repro_written_before_the_pace_could_vary_replays_at_a_steady_one() {
    // Its crash points waited only for messages sent, too.
    let text = "protocol = \"raft\"\nduration = \"5s\"\n[random_faults]\nstart = \"1s\"\n\
                tempo = \"steady\"\nmoments = [\"sends\"]\n";
    let registry = detsim::registry();
    let scenario = registry.parse(text, None).unwrap();
    let result = run_case(&scenario, "detsim-raft", 3);
    let file = Repro::of(&scenario, &result).to_toml(None);
    let old = file
        .replace("tempo = \"steady\"\n", "")
        .replace("moments = [\"sends\"]\n", "");
    assert!(!old.contains("tempo") && !old.contains("moments"), "{old}");
    let replayed = Repro::parse(&registry, &old, None).unwrap();
    let again = run_case(&replayed.scenario, "detsim-raft", 3);
    assert!(
        replayed.matches(&again),
        "a file without `tempo` and `moments` replays as steady, waiting for sends"
    );
    // A scenario file without them varies the pace and waits for every moment, and
    // draws another schedule.
    let today = registry
        .parse(
            "protocol = \"raft\"\nduration = \"5s\"\n[random_faults]\nstart = \"1s\"\n",
            None,
        )
        .unwrap();
    assert_ne!(
        today.fault_schedule(3),
        scenario.fault_schedule(3),
        "today's defaults draw differently"
    );
}

#[test]
fn a_repro_file_with_crash_points_written_before_moments_replays_exactly() {
    // Written by detsim at 38a7bea, before tempo, moments, strikes and pause and
    // isolate points: its crash points wait for messages sent, at a steady pace.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/old-repros/canary-crash-points-seed124.toml");
    let repro = Repro::load(&detsim::registry(), &path).unwrap();
    let result = run_case(&repro.scenario, &repro.implementation, repro.seed);
    assert!(
        repro.matches(&result),
        "{}: 0x{:016x}",
        result.summary(),
        result.trace_hash
    );
}
