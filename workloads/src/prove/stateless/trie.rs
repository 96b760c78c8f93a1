//! Ethereum's state trie as the stateless client sees it: kona-mpt's
//! partial trie (blinded subtrees, opened on demand) for reads and updates,
//! and [`seal`], which hashes an opened trie bottom-up exactly once per node
//! so the work can be counted.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::Encodable;
use alloy_trie::{TrieAccount, EMPTY_ROOT_HASH};
use gaslab_evm::PreState;
use kona_mpt::{Nibbles, NoopTrieProvider, TrieNode};
use std::collections::HashMap;

/// Counts the keccak work of the trie side (EVM-internal hashing excluded).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HashWork {
    pub keccak_calls: u64,
    pub trie_nodes_hashed: u64,
}

impl HashWork {
    pub fn keccak(&mut self, data: &[u8]) -> B256 {
        self.keccak_calls += 1;
        keccak256(data)
    }
}

/// Node preimages by hash: what a witness or a full node database holds.
pub type NodeDb = HashMap<B256, Bytes>;

/// The trie path of an account or a storage slot: the nibbles of its key's hash.
pub fn key_path(key: &[u8], work: &mut HashWork) -> Nibbles {
    Nibbles::unpack(work.keccak(key))
}

pub fn slot_key(slot: U256) -> [u8; 32] {
    slot.to_be_bytes::<32>()
}

/// A subtree known only by its root hash.
pub fn blinded(root: B256) -> TrieNode {
    if root == EMPTY_ROOT_HASH {
        TrieNode::Empty
    } else {
        TrieNode::new_blinded(root)
    }
}

/// The root hash of `node`, hashing every opened node once, bottom-up, and
/// recording each hashed node's preimage in `preimages` when given.
pub fn seal(node: &TrieNode, work: &mut HashWork, mut preimages: Option<&mut NodeDb>) -> B256 {
    if matches!(node, TrieNode::Empty) {
        return EMPTY_ROOT_HASH;
    }
    if let TrieNode::Blinded { commitment } = node {
        return *commitment;
    }
    let sealed = seal_children(node, work, &mut preimages);
    let encoded = rlp(&sealed);
    let hash = work.keccak(&encoded);
    work.trie_nodes_hashed += 1;
    if let Some(db) = preimages {
        db.insert(hash, encoded.into());
    }
    hash
}

/// `node` with every child replaced by its reference: the hash of a child
/// whose encoding is 32 bytes or longer, the child itself otherwise.
fn seal_children(
    node: &TrieNode,
    work: &mut HashWork,
    preimages: &mut Option<&mut NodeDb>,
) -> TrieNode {
    let reference = |child: &TrieNode, work: &mut HashWork, preimages: &mut Option<&mut NodeDb>| {
        if matches!(child, TrieNode::Empty | TrieNode::Blinded { .. }) {
            return child.clone();
        }
        let sealed = seal_children(child, work, preimages);
        let encoded = rlp(&sealed);
        if encoded.len() < 32 {
            return sealed;
        }
        let hash = work.keccak(&encoded);
        work.trie_nodes_hashed += 1;
        if let Some(db) = preimages.as_deref_mut() {
            db.insert(hash, encoded.into());
        }
        TrieNode::new_blinded(hash)
    };
    match node {
        TrieNode::Branch { stack } => TrieNode::Branch {
            stack: stack
                .iter()
                .map(|c| reference(c, work, preimages))
                .collect(),
        },
        TrieNode::Extension { prefix, node } => TrieNode::Extension {
            prefix: *prefix,
            node: Box::new(reference(node, work, preimages)),
        },
        other => other.clone(),
    }
}

fn rlp(node: &TrieNode) -> Vec<u8> {
    let mut out = Vec::with_capacity(node.length());
    node.encode(&mut out);
    out
}

/// Storage values are stored RLP-encoded, leading zeros trimmed.
pub fn storage_value(value: U256) -> Bytes {
    alloy_rlp::encode(value).into()
}

pub fn account_value(account: &TrieAccount) -> Bytes {
    alloy_rlp::encode(account).into()
}

/// The full state trie of `pre`, built in memory, with every node's
/// preimage: what an archive node holds and the host reads witnesses from.
pub struct FullState {
    pub root: B256,
    pub nodes: NodeDb,
}

pub fn full_state(pre: &PreState) -> Result<FullState, String> {
    let mut work = HashWork::default();
    let mut nodes = NodeDb::new();
    let mut accounts = TrieNode::Empty;
    for (address, info) in pre.accounts() {
        let mut storage = TrieNode::Empty;
        for (slot, value) in pre.storage(address) {
            if value.is_zero() {
                continue;
            }
            let path = key_path(&slot_key(*slot), &mut work);
            storage
                .insert(&path, storage_value(*value), &NoopTrieProvider)
                .map_err(|e| format!("building the storage trie of {address}: {e}"))?;
        }
        let account = TrieAccount {
            nonce: info.nonce,
            balance: info.balance,
            storage_root: seal(&storage, &mut work, Some(&mut nodes)),
            code_hash: info.code_hash,
        };
        let path = key_path(address.as_slice(), &mut work);
        accounts
            .insert(&path, account_value(&account), &NoopTrieProvider)
            .map_err(|e| format!("building the account trie at {address}: {e}"))?;
    }
    let root = seal(&accounts, &mut work, Some(&mut nodes));
    Ok(FullState { root, nodes })
}

/// The state root computed independently of kona-mpt, by alloy-trie's
/// hash builder over every account: the reference the client must match.
pub fn reference_root(accounts: impl IntoIterator<Item = (Address, TrieAccount)>) -> B256 {
    alloy_trie::root::state_root_unhashed(accounts)
}

/// The storage root of `slots` by alloy-trie's hash builder.
pub fn reference_storage_root(slots: impl IntoIterator<Item = (U256, U256)>) -> B256 {
    alloy_trie::root::storage_root_unhashed(
        slots
            .into_iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (B256::from(k), v)),
    )
}
