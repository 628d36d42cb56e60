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
    let text = "protocol = \"raft\"\nduration = \"5s\"\n[random_faults]\nstart = \"1s\"\ntempo = \"steady\"\n";
    let registry = detsim::registry();
    let scenario = registry.parse(text, None).unwrap();
    let result = run_case(&scenario, "detsim-raft", 3);
    let file = Repro::of(&scenario, &result).to_toml(None);
    let old = file.replace("tempo = \"steady\"\n", "");
    assert_ne!(old, file, "the file pins the pace");
    let replayed = Repro::parse(&registry, &old, None).unwrap();
    let again = run_case(&replayed.scenario, "detsim-raft", 3);
    assert!(
        replayed.matches(&again),
        "a file without `tempo` replays as steady"
    );
    // A scenario file without `tempo` varies it, and draws another schedule.
    let varied = registry
        .parse(&text.replace("tempo = \"steady\"\n", ""), None)
        .unwrap();
    assert_ne!(
        run_case(&varied, "detsim-raft", 3).trace_hash,
        result.trace_hash
    );
}
