//! Every interceptor verdict, injection, and chain order.

mod common;

use common::{at_ms, ms, node, recorders, send};
use sim_core::{Envelope, InterceptorContext, NodeId, SimConfig, Verdict};

type Ctx<'a> = InterceptorContext<'a, u64>;

#[test]
fn pass_changes_nothing() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("pass", |_: &mut Ctx<'_>, _: &Envelope<u64>| Verdict::Pass);
    send(&mut sim, 0, 1, 3);
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).received, [(at_ms(1), NodeId(0), 3)]);
    assert_eq!(sim.stats().interceptors.passed, 1);
}

#[test]
fn drop_removes_the_message() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("odd", |_: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        if envelope.message % 2 == 1 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    for payload in 0..6 {
        send(&mut sim, 0, 1, payload);
    }
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [0, 2, 4]);
    assert_eq!(sim.stats().interceptors.dropped, 3);
}

#[test]
fn delay_adds_to_the_link_latency() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("slow", |_: &mut Ctx<'_>, _: &Envelope<u64>| {
        Verdict::Delay(ms(9))
    });
    send(&mut sim, 0, 1, 1);
    sim.run_for(ms(20)).unwrap();
    assert_eq!(node(&sim, 1).received[0].0, at_ms(10));
}

#[test]
fn duplicate_sends_a_copy_through_the_rest_of_the_chain() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("copy", |_: &mut Ctx<'_>, _: &Envelope<u64>| {
        Verdict::Duplicate
    });
    let mut seen = 0;
    sim.intercept("count", move |_: &mut Ctx<'_>, _: &Envelope<u64>| {
        seen += 1;
        Verdict::Replace(seen)
    });
    send(&mut sim, 0, 1, 100);
    sim.run_for(ms(5)).unwrap();
    let mut payloads = node(&sim, 1).payloads();
    payloads.sort_unstable();
    assert_eq!(
        payloads,
        [1, 2],
        "both copies went through the second interceptor"
    );
}

#[test]
fn replace_substitutes_the_message() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("tamper", |_: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        Verdict::Replace(envelope.message * 10)
    });
    send(&mut sim, 0, 1, 4);
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [40]);
}

#[test]
fn interceptors_can_inject_forged_messages() {
    let mut sim = recorders(3, SimConfig::new(1));
    sim.intercept("forger", |ctx: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        if envelope.target == NodeId(1) {
            // Pretend node 2 said something else as well.
            ctx.inject(NodeId(2), NodeId(1), 666, ms(2));
        }
        Verdict::Pass
    });
    send(&mut sim, 0, 1, 1);
    sim.run_for(ms(10)).unwrap();
    assert_eq!(
        node(&sim, 1).received,
        [(at_ms(1), NodeId(0), 1), (at_ms(3), NodeId(2), 666)]
    );
    assert_eq!(sim.stats().interceptors.injected, 1);
}

#[test]
fn interceptors_run_in_order_and_see_what_earlier_ones_did() {
    let mut sim = recorders(2, SimConfig::new(1));
    sim.intercept("double", |_: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        Verdict::Replace(envelope.message * 2)
    });
    sim.intercept("increment", |_: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        Verdict::Replace(envelope.message + 1)
    });
    send(&mut sim, 0, 1, 5);
    sim.run_for(ms(5)).unwrap();
    assert_eq!(node(&sim, 1).payloads(), [11]);
}

#[test]
fn interceptors_see_source_target_and_send_time() {
    let mut sim = recorders(2, SimConfig::new(1));
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = std::rc::Rc::clone(&seen);
    sim.intercept("spy", move |_: &mut Ctx<'_>, envelope: &Envelope<u64>| {
        log.borrow_mut().push(envelope.clone());
        Verdict::Pass
    });
    sim.run_to(at_ms(4)).unwrap();
    send(&mut sim, 1, 0, 8);
    assert_eq!(
        *seen.borrow(),
        [Envelope {
            source: NodeId(1),
            target: NodeId(0),
            sent_at: at_ms(4),
            message: 8
        }]
    );
}
