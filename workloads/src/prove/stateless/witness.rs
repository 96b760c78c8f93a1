//! The witness a host hands the stateless client, how the host records it,
//! and how the client turns it back into something it can look nodes up in.

use super::client::{StatelessError, WitnessDb};
use super::trie::{full_state, reference_root, reference_storage_root, HashWork, NodeDb};
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rlp::Decodable;
use alloy_trie::TrieAccount;
use gaslab_evm::revm::bytecode::Bytecode;
use gaslab_evm::revm::primitives::KECCAK_EMPTY;
use gaslab_evm::{execute_sequential_on, Block, BlockOutput, PreState, SlotChanges};
use kona_mpt::{TrieNode, TrieProvider};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Everything the client may read: trie nodes and bytecode, as raw bytes.
/// Nothing in it is trusted; the client hashes it and reaches it only
/// through the trusted pre-state root.
#[derive(Debug, Clone, Default)]
pub struct Witness {
    pub nodes: Vec<Bytes>,
    pub codes: Vec<Bytes>,
}

impl Witness {
    pub fn bytes(&self) -> usize {
        self.nodes.iter().chain(&self.codes).map(|b| b.len()).sum()
    }
}

/// Trie nodes keyed by the hash the client computed itself.
pub struct WitnessNodes {
    nodes: NodeDb,
}

impl WitnessNodes {
    pub fn from_witness(witness: &Witness, work: &mut HashWork) -> Self {
        let nodes = witness
            .nodes
            .iter()
            .map(|n| (work.keccak(n), n.clone()))
            .collect();
        Self { nodes }
    }
}

/// Bytecode keyed by the hash the client computed itself.
pub fn witness_codes(witness: &Witness, work: &mut HashWork) -> HashMap<B256, Bytecode> {
    witness
        .codes
        .iter()
        .map(|c| (work.keccak(c), Bytecode::new_raw(c.clone())))
        .collect()
}

fn decode_node(hash: B256, preimage: &Bytes) -> Result<TrieNode, StatelessError> {
    TrieNode::decode(&mut preimage.as_ref())
        .map_err(|e| StatelessError::Trie(format!("node {hash}: {e}")))
}

impl TrieProvider for WitnessNodes {
    type Error = StatelessError;

    fn trie_node_by_hash(&self, hash: B256) -> Result<TrieNode, Self::Error> {
        let preimage = self
            .nodes
            .get(&hash)
            .ok_or_else(|| StatelessError::Trie(format!("node {hash} is not in the witness")))?;
        decode_node(hash, preimage)
    }
}

/// The host's view: the full node database, noting which nodes were asked for.
struct RecordingNodes<'a> {
    all: &'a NodeDb,
    used: RefCell<Vec<B256>>,
    seen: RefCell<HashSet<B256>>,
}

impl TrieProvider for RecordingNodes<'_> {
    type Error = StatelessError;

    fn trie_node_by_hash(&self, hash: B256) -> Result<TrieNode, Self::Error> {
        let preimage = self
            .all
            .get(&hash)
            .ok_or_else(|| StatelessError::Trie(format!("node {hash} is not in the state")))?;
        if self.seen.borrow_mut().insert(hash) {
            self.used.borrow_mut().push(hash);
        }
        decode_node(hash, preimage)
    }
}

/// What the host prepares for one block.
#[derive(Debug, Clone)]
pub struct HostRecord {
    pub witness: Witness,
    pub pre_root: B256,
    /// The post-state root over the full post-state, computed by alloy-trie.
    pub post_root: B256,
    /// Nodes needed only to apply the diff (deletion siblings, mostly).
    pub update_only_nodes: usize,
    pub output: BlockOutput,
}

/// Runs the client once against the full state, recording every trie node
/// and bytecode it touches: exactly the witness the client will need.
pub fn record(block: &Block, pre: &PreState) -> Result<HostRecord, String> {
    let full = full_state(pre)?;
    let reference_pre = reference_root(trie_accounts(pre, &BTreeMap::new()));
    if reference_pre != full.root {
        return Err(format!(
            "pre-state root {} disagrees with alloy-trie's {reference_pre}",
            full.root
        ));
    }
    let all_codes: HashMap<B256, Bytecode> = pre
        .accounts()
        .filter_map(|(_, info)| info.code.clone().map(|c| (info.code_hash, c)))
        .collect();
    let provider = RecordingNodes {
        all: &full.nodes,
        used: RefCell::default(),
        seen: RefCell::default(),
    };
    let db = WitnessDb::new(full.root, &provider, &all_codes);
    let output = execute_sequential_on(block, &db).map_err(|e| e.to_string())?;
    let nodes_for_execution = provider.used.borrow().len();
    let run = db.post_state_root(&output).map_err(|e| e.to_string())?;
    let post_root = reference_root(trie_accounts(pre, &diff_leaves(&output)));
    if run.post_root != post_root {
        return Err(format!(
            "host-side client root {} disagrees with the full post-state root {post_root}",
            run.post_root
        ));
    }
    let used = provider.used.into_inner();
    let witness = Witness {
        nodes: used.iter().map(|h| full.nodes[h].clone()).collect(),
        codes: run
            .codes_used
            .iter()
            .map(|h| all_codes[h].original_bytes())
            .collect(),
    };
    Ok(HostRecord {
        witness,
        pre_root: full.root,
        post_root,
        update_only_nodes: used.len() - nodes_for_execution,
        output,
    })
}

type DiffLeaves = BTreeMap<Address, (TrieAccount, SlotChanges, bool)>;

/// The block's diff as account leaves (storage root left for later), slots
/// and whether storage was cleared.
fn diff_leaves(output: &BlockOutput) -> DiffLeaves {
    output
        .changes
        .iter()
        .map(|(address, c)| {
            let leaf = TrieAccount {
                nonce: c.nonce,
                balance: c.balance,
                storage_root: Default::default(),
                code_hash: c.code_hash,
            };
            (*address, (leaf, c.storage.clone(), c.storage_cleared))
        })
        .collect()
}

/// Every non-empty account of `pre` with `changes` applied, as trie leaves.
fn trie_accounts(pre: &PreState, changes: &DiffLeaves) -> Vec<(Address, TrieAccount)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (address, info) in pre.accounts() {
        seen.insert(*address);
        let mut slots: BTreeMap<U256, U256> = pre.storage(address).map(|(k, v)| (*k, *v)).collect();
        let mut account = TrieAccount {
            nonce: info.nonce,
            balance: info.balance,
            storage_root: Default::default(),
            code_hash: info.code_hash,
        };
        if let Some((after, storage, cleared)) = changes.get(address) {
            if *cleared {
                slots.clear();
            }
            slots.extend(storage.iter().map(|(k, v)| (*k, *v)));
            account = *after;
        }
        account.storage_root = reference_storage_root(slots);
        out.push((*address, account));
    }
    for (address, (after, storage, _)) in changes {
        if seen.contains(address) {
            continue;
        }
        let mut account = *after;
        account.storage_root = reference_storage_root(storage.iter().map(|(k, v)| (*k, *v)));
        out.push((*address, account));
    }
    out.retain(|(_, a)| !(a.nonce == 0 && a.balance.is_zero() && a.code_hash == KECCAK_EMPTY));
    out
}
