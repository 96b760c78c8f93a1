//! The threads that work on a block beside the calling thread, kept from
//! block to block: starting and joining a thread per block cost 30-40 µs of
//! a 0.2-2 ms mainnet block on a 2-core VM.

use rayon_core::{ThreadPool, ThreadPoolBuilder};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Mutex;

thread_local! {
    /// Each calling thread's own helpers, so that blocks run at once from
    /// several threads (tests do) never queue one block's workers behind
    /// another's: every worker must run at once, the fold meets at barriers.
    static HELPERS: RefCell<Option<(usize, Rc<ThreadPool>)>> = const { RefCell::new(None) };
}

/// Runs `work(t)` for every worker `t` in `0..threads` at once, worker 0 on
/// the calling thread, and returns their results in worker order. A panic
/// in any worker is raised again here.
pub(super) fn run_on<R: Send>(threads: usize, work: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let pool = helpers(threads - 1);
    let results: Vec<Mutex<Option<R>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    pool.in_place_scope(|scope| {
        for (t, result) in results.iter().enumerate().skip(1) {
            let work = &work;
            scope.spawn(move |_| {
                *result.lock().unwrap() = Some(work(t));
            });
        }
        *results[0].lock().unwrap() = Some(work(0));
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every worker ran"))
        .collect()
}

/// The calling thread's pool of exactly `count` helper threads.
fn helpers(count: usize) -> Rc<ThreadPool> {
    HELPERS.with(|cell| {
        let mut cell = cell.borrow_mut();
        match cell.as_ref() {
            Some((kept, pool)) if *kept == count => pool.clone(),
            _ => {
                let pool = ThreadPoolBuilder::new()
                    .num_threads(count.max(1))
                    .thread_name(|i| format!("gaslab-evm-helper-{i}"))
                    .build()
                    .expect("cannot start the parallel executor's helper threads");
                let pool = Rc::new(pool);
                *cell = Some((count, pool.clone()));
                pool
            }
        }
    })
}
