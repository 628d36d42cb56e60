//! Points in scenario files: a crash, a pause or a cut that waits for a moment the
//! protocol names (a message sent or handled, an event emitted).

use scenarios::{Verdict, run_case};

fn raft(faults: &str) -> scenarios::Scenario {
    let text = format!(
        "protocol = \"raft\"\nduration = \"10s\"\n[cluster]\nreplicas = 3\n[workload]\nrate = 10\n{faults}"
    );
    detsim::registry().parse(&text, None).unwrap()
}

#[test]
fn an_isolate_point_on_becoming_leader_cuts_off_the_next_winner_and_another_leads() {
    let scenario = raft(
        "[[faults]]\nat = \"2s\"\nisolate_point = [\"replica-0\", \"replica-1\", \"replica-2\"]\n\
         emits = \"became leader\"\nfor = \"3s\"\n[[faults]]\nat = \"2s\"\ncrash = \"replica-0\"\n\
         [[faults]]\nat = \"2500ms\"\nrestart = \"replica-0\"\n",
    );
    let points: Vec<_> = scenario
        .faults
        .faults
        .iter()
        .filter(|timed| timed.fault.kind() == "isolate_point")
        .collect();
    assert_eq!(points.len(), 3);
    assert_eq!(
        points[1].fault,
        sim_core::Fault::CrashPoint {
            node: sim_core::NodeId(1),
            after: 0,
            on: Some(sim_core::Moment::Emits("became leader".to_string())),
            down_for: Some(sim_core::SimDuration::from_secs(3)),
            strike: sim_core::Strike::Isolate,
            until: None,
        }
    );
    let words = scenarios::words::schedule_words(&scenario, 0, sim_core::SimTime::from_secs(3), 10);
    assert!(
        words.contains("isolate_point replica-1 emits became leader for 3s"),
        "{words}"
    );
    let result = run_case(&scenario, "detsim-raft", 0);
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.summary());
}

#[test]
fn a_point_takes_one_moment_and_its_modifiers_only_with_a_point() {
    let error = |faults: &str| {
        let text = format!("protocol = \"raft\"\nduration = \"5s\"\n{faults}");
        detsim::registry()
            .parse(&text, None)
            .unwrap_err()
            .to_string()
    };
    let two = error(
        "[[faults]]\nat = \"1s\"\npause_point = \"replica-0\"\nhandles = \"Vote\"\nemits = \"voted\"\n",
    );
    assert!(two.contains("a pause_point waits for one moment"), "{two}");
    let stray = error("[[faults]]\nat = \"1s\"\npause = \"replica-0\"\nhandles = \"Vote\"\n");
    assert!(
        stray
            .contains("`handles` only applies to `crash_point`, `pause_point` and `isolate_point`"),
        "{stray}"
    );
}

#[test]
fn disk_faults_that_damage_nothing_need_no_claim_of_disk_faults() {
    let parse = |chances: &str| {
        let text = format!(
            "protocol = \"raft\"\nduration = \"5s\"\n[[faults]]\nat = \"1s\"\n\
             disk_faults = {{ node = \"replica-0\", {chances} }}\n"
        );
        detsim::registry().parse(&text, None).map(|_| ())
    };
    // Raft claims no disk faults: damage is refused, keeping unsynced writes or zero
    // chances are not damage.
    assert!(parse("unsynced_kept = \"50%\"").is_ok());
    assert!(parse("lost_write = \"0%\", read_error = \"0%\"").is_ok());
    let error = parse("lost_write = \"1%\"").unwrap_err().to_string();
    assert!(error.contains("disk"), "{error}");
}
