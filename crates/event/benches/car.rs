//! Decoding and encoding a signed data event's CAR (payload + envelope), the work `POST
//! /ceramic/events` does per event before the engine. Content sizes 100 B, 1 KiB and 10 KiB.
//!
//! Run: `cargo bench -p ceramic-event --bench car --all-features` (see benches/README.md).

use ceramic_event::Event;
use ceramic_event::test_utils::signed_data_event;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn car(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_car");
    for size in [100usize, 1024, 10 * 1024] {
        let event = signed_data_event(size);
        let bytes = event.encode_car().expect("encodes");
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("decode_signed_data", size), &bytes, |b, bytes| {
            b.iter(|| Event::decode_car(bytes).expect("decodes"))
        });
        group.bench_with_input(BenchmarkId::new("encode_signed_data", size), &event, |b, event| {
            b.iter(|| event.encode_car().expect("encodes"))
        });
    }
    group.finish();
}

criterion_group!(benches, car);
criterion_main!(benches);
