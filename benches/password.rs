//! The argon2 bound of password logins: one argon2id check (the service's parameters, OWASP m=12288 KiB, t=3, p=1) with fresh
//! and with reused memory, and two checks at once on two threads (the login ceiling of a 2-core
//! machine is 2 / the time of the pair's slower check). `cargo bench --bench password`; figures in
//! docs/benchmarks.md.

use std::hint::black_box;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Version};
use authify::crypto::hash_workers::HashMemory;
use authify::crypto::password::current_params;
use criterion::{Criterion, criterion_group, criterion_main};

const PASSWORD: &[u8] = b"a long enough password";
const SALT: &[u8] = b"sixteen byte salt";

fn check(memory: &mut HashMemory) -> [u8; 32] {
    let mut output = [0u8; 32];
    let params = current_params();
    let blocks = memory.blocks(params.block_count());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(PASSWORD, SALT, &mut output, blocks)
        .expect("argon2");
    output
}

fn bench_password(c: &mut Criterion) {
    // The service's allocator setting (src/main.rs): 12 MiB blocks are mapped and unmapped each time.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets allocator parameters before the benchmark allocates anything large.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("fresh memory", |b| b.iter(|| black_box(check(&mut HashMemory::default()))));
    let mut memory = HashMemory::default();
    group.bench_function("reused memory", |b| b.iter(|| black_box(check(&mut memory))));
    let mut pair = [HashMemory::default(), HashMemory::default()];
    group.bench_function("two at once, reused memory", |b| {
        b.iter(|| {
            let [first, second] = &mut pair;
            std::thread::scope(|s| {
                let other = s.spawn(|| check(second));
                black_box(check(first));
                black_box(other.join().expect("thread"));
            });
        })
    });
    group.finish();
}

criterion_group!(benches, bench_password);
criterion_main!(benches);
