//! The executors side by side on the lab's own generated blocks: a bare revm
//! `transact_commit` loop, the sequential executor and Block-STM, in
//! alternating rounds so machine noise hits all three alike. Prints each
//! median and the ratios the parallel-EVM issue sets targets for.
//!
//!     cargo run --release -p gaslab-workloads --example executor_ratios -- 9 2
//!
//! It also prints the CPU time each executor used (all threads): the
//! parallel executor's CPU over the sequential one's is its overhead, which
//! machine noise that only delays threads does not move, and `threads`
//! divided by it is the most any schedule could gain. `split` is the bare
//! loop cut into `threads` contiguous parts run at once: the machine's own
//! ceiling for an independent block. `ceiling` is the sequential executor's
//! time over the split loop's: the speedup over sequential a parallel
//! executor that did the bare loop's work, shared nothing and waited for
//! nothing would show, the figure to hold the targets against.
//!
//! Arguments: rounds (default 9), parallel threads (default 2), and
//! optionally the blocks to run (transfers, erc20, amm, amm-dependent, and
//! the first three at conflict 0.5 as transfers-0.5 ...).

use gaslab_evm::revm::context::{CfgEnv, Context};
use gaslab_evm::revm::database::CacheDB;
use gaslab_evm::revm::handler::{
    ExecuteCommitEvm, MainBuilder, MainContext, MainnetContext, MainnetEvm,
};
use gaslab_evm::{execute_parallel_with, execute_sequential, Block, ParallelOptions, PreState};
use gaslab_workloads::evm::{amm, erc20, transfers};
use std::time::{Duration, Instant};

type BareEvm<'a> = MainnetEvm<MainnetContext<CacheDB<&'a PreState>>>;

/// One EVM over its own cache of the pre-state, as any revm user builds it.
fn bare_evm<'a>(block: &Block, pre: &'a PreState) -> BareEvm<'a> {
    let mut cfg = CfgEnv::new_with_spec(block.context.spec);
    cfg.chain_id = block.context.chain_id;
    Context::mainnet()
        .with_db(CacheDB::new(pre))
        .with_block(block.context.env.clone())
        .with_cfg(cfg)
        .build_mainnet()
}

/// What any revm user would write: one EVM, transact_commit per transaction.
fn bare_revm(block: &Block, pre: &PreState) -> u64 {
    let mut evm = bare_evm(block, pre);
    block
        .transactions
        .iter()
        .map(|tx| evm.transact_commit(tx.clone()).unwrap().tx_gas_used())
        .sum()
}

/// The machine's own ceiling: `threads` bare loops at once, each over its own
/// contiguous share of the block with its own cache, nothing shared but the
/// pre-state. On an independent block no executor can beat this; shared
/// caches, memory bandwidth and a busy host lower it below `threads`.
fn split_bare_revm(block: &Block, pre: &PreState, threads: usize) {
    let share = block.transactions.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        for part in block.transactions.chunks(share) {
            scope.spawn(move || {
                let mut evm = bare_evm(block, pre);
                // A dependent block's later shares fail their nonce checks:
                // the figure only means something for independent blocks.
                for tx in part {
                    let _ = std::hint::black_box(evm.transact_commit(tx.clone()));
                }
            });
        }
    });
}

type Generator = fn() -> (Block, PreState);

/// CPU time this process has used, all threads.
fn cpu_time() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Wall and CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (cpu, wall) = (cpu_time(), Instant::now());
    let out = f();
    (out, wall.elapsed(), cpu_time() - cpu)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().map_or(9, |a| a.parse().expect("rounds"));
    let threads: usize = args.get(1).map_or(2, |a| a.parse().expect("threads"));
    let wanted: Vec<&str> = args.iter().skip(2).map(String::as_str).collect();
    // About 1 Ggas each, as in profiles/evm-scaling.toml.
    let blocks: [(&str, Generator); 7] = [
        ("transfers", || transfers::generate(47_619, 1, 0.0)),
        ("erc20", || erc20::generate(19_493, 1, 0.0)),
        ("amm", || amm::generate(16_129, 1, 0.0)),
        ("amm-dependent", || amm::generate(16_129, 1, 1.0)),
        ("transfers-0.5", || transfers::generate(47_619, 1, 0.5)),
        ("erc20-0.5", || erc20::generate(19_493, 1, 0.5)),
        ("amm-0.5", || amm::generate(16_129, 1, 0.5)),
    ];
    println!(
        "{:<14} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}  parallel stats",
        "block",
        "bare ms",
        "seq ms",
        "par ms",
        "seq/bare",
        "par/seq",
        "cpu ovh",
        "bound",
        "split",
        "ceiling"
    );
    for (name, generate) in blocks {
        if !wanted.is_empty() && !wanted.contains(&name) {
            continue;
        }
        let (block, pre) = generate();
        // As the workloads run them: Token.sol's transfers may be lazy.
        let options = if name.starts_with("erc20") {
            erc20::lazy_token_options()
        } else {
            ParallelOptions::default()
        };
        let reference = execute_sequential(&block, &pre).unwrap().digest();
        let (mut bare, mut seq, mut par, mut split) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut seq_cpu, mut par_cpu) = (Vec::new(), Vec::new());
        let mut stats = None;
        for _ in 0..rounds {
            let t = Instant::now();
            std::hint::black_box(bare_revm(&block, &pre));
            bare.push(t.elapsed());
            let t = Instant::now();
            split_bare_revm(&block, &pre, threads);
            split.push(t.elapsed());
            let (out, wall, cpu) = timed(|| execute_sequential(&block, &pre).unwrap());
            seq.push(wall);
            seq_cpu.push(cpu);
            drop(out);
            let ((out, s), wall, cpu) =
                timed(|| execute_parallel_with(&block, &pre, threads, &options).unwrap());
            par.push(wall);
            par_cpu.push(cpu);
            assert_eq!(out.digest(), reference, "{name}: parallel differs");
            stats = Some(s);
        }
        let (bare, seq, par, split) = (median(bare), median(seq), median(par), median(split));
        let overhead = median(par_cpu).as_secs_f64() / median(seq_cpu).as_secs_f64();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        // Time ratios: seq/bare is the executor's overhead (target <= 1.1),
        // seq/par the speedup (gas is the same on both sides), split the
        // bare loop's own speedup when the block is simply cut in parts.
        println!(
            "{:<14} {:>8.1} {:>8.1} {:>8.1} {:>9.3} {:>7.2}x {:>8.2} {:>7.2}x {:>7.2}x {:>7.2}x  {:?}",
            name,
            ms(bare),
            ms(seq),
            ms(par),
            ms(seq) / ms(bare),
            ms(seq) / ms(par),
            overhead,
            threads as f64 / overhead,
            ms(bare) / ms(split),
            ms(seq) / ms(split),
            stats.unwrap()
        );
    }
}
