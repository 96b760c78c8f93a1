//! Every shared mainnet block reproduces its header under the sequential
//! executor: the chain is the oracle.

mod common;

use gaslab_mainnet::executor::{run, Executor};
use gaslab_mainnet::verify::verify_header;

#[test]
fn every_block_verifies_sequentially() {
    let (root, full) = common::blocks_dir();
    let dirs = gaslab_mainnet::expand(std::slice::from_ref(&root)).unwrap();
    if full {
        assert_eq!(dirs.len(), 41, "{}", root.display());
    }
    let mut failures = Vec::new();
    for dir in &dirs {
        let block = gaslab_mainnet::load(dir).unwrap_or_else(|e| panic!("{e}"));
        let out = run(Executor::Sequential, &block.block, &block.pre, 1)
            .map_err(|e| format!("block {}: {e}", block.number))
            .and_then(|(out, _)| verify_header(&block, &out).map_err(|m| m.to_string()));
        if let Err(e) = out {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
