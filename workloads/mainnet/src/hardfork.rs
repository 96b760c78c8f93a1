//! Which rules a mainnet block runs under, from its number alone.

use gaslab_evm::revm::primitives::hardfork::SpecId;

/// First mainnet block of each hardfork that changed execution, oldest
/// first. The DAO and difficulty-bomb forks changed no EVM rule revm models
/// (the DAO's balance move is in the pre-state), so they are not listed.
/// Shanghai and Cancun activated by timestamp; on mainnet that is these
/// first blocks.
const MAINNET_SCHEDULE: &[(u64, SpecId)] = &[
    (0, SpecId::FRONTIER),
    (1_150_000, SpecId::HOMESTEAD),
    (2_463_000, SpecId::TANGERINE),
    (2_675_000, SpecId::SPURIOUS_DRAGON),
    (4_370_000, SpecId::BYZANTIUM),
    // Constantinople was replaced by Petersburg at the same block.
    (7_280_000, SpecId::PETERSBURG),
    (9_069_000, SpecId::ISTANBUL),
    (12_244_000, SpecId::BERLIN),
    (12_965_000, SpecId::LONDON),
    (15_537_394, SpecId::MERGE),
    (17_034_870, SpecId::SHANGHAI),
    (19_426_587, SpecId::CANCUN),
];

/// First mainnet block of Prague, the first fork this schedule does not
/// cover: later blocks are refused rather than run under rules they did not
/// follow.
pub const PRAGUE_BLOCK: u64 = 22_431_084;

/// The hardfork mainnet block `number` ran under, or None from Prague on.
pub fn mainnet_spec(number: u64) -> Option<SpecId> {
    if number >= PRAGUE_BLOCK {
        return None;
    }
    MAINNET_SCHEDULE
        .iter()
        .rev()
        .find(|(first, _)| number >= *first)
        .map(|(_, spec)| *spec)
}

/// The fork's usual name, as the table prints it.
pub fn name(spec: SpecId) -> &'static str {
    match spec {
        SpecId::FRONTIER => "Frontier",
        SpecId::HOMESTEAD => "Homestead",
        SpecId::TANGERINE => "Tangerine",
        SpecId::SPURIOUS_DRAGON => "SpuriousDragon",
        SpecId::BYZANTIUM => "Byzantium",
        SpecId::PETERSBURG => "Petersburg",
        SpecId::ISTANBUL => "Istanbul",
        SpecId::BERLIN => "Berlin",
        SpecId::LONDON => "London",
        SpecId::MERGE => "Paris",
        SpecId::SHANGHAI => "Shanghai",
        SpecId::CANCUN => "Cancun",
        _ => "later",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_boundaries_fall_on_their_first_block() {
        assert_eq!(mainnet_spec(46_147), Some(SpecId::FRONTIER));
        assert_eq!(mainnet_spec(1_149_999), Some(SpecId::FRONTIER));
        assert_eq!(mainnet_spec(1_150_000), Some(SpecId::HOMESTEAD));
        assert_eq!(mainnet_spec(2_674_999), Some(SpecId::TANGERINE));
        assert_eq!(mainnet_spec(2_675_000), Some(SpecId::SPURIOUS_DRAGON));
        assert_eq!(mainnet_spec(4_369_999), Some(SpecId::SPURIOUS_DRAGON));
        assert_eq!(mainnet_spec(4_370_000), Some(SpecId::BYZANTIUM));
        assert_eq!(mainnet_spec(7_279_999), Some(SpecId::BYZANTIUM));
        assert_eq!(mainnet_spec(12_243_999), Some(SpecId::ISTANBUL));
        assert_eq!(mainnet_spec(12_244_000), Some(SpecId::BERLIN));
        assert_eq!(mainnet_spec(15_537_393), Some(SpecId::LONDON));
        assert_eq!(mainnet_spec(15_537_394), Some(SpecId::MERGE));
        assert_eq!(mainnet_spec(19_426_586), Some(SpecId::SHANGHAI));
        assert_eq!(mainnet_spec(19_426_587), Some(SpecId::CANCUN));
        assert_eq!(mainnet_spec(PRAGUE_BLOCK), None);
    }
}
