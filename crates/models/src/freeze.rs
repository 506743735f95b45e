//! Freeze depth: which leading part of a ResNet is fixed during fine-tuning.
//!
//! Depth `k` in `0..=4`: `k = 0` trains everything; `k >= 1` freezes the stem (`conv1`, `bn1`)
//! and `layer1` ..= `layer{k}`. A frozen tensor is left out of the optimizer, its BatchNorms run
//! in eval mode even while training (their running statistics never change), and the network
//! detaches the prefix's output so no gradient is computed through it. `k = 4` leaves only `fc`
//! trainable (linear probing).

/// Where a named tensor sits in a ResNet: the stem is stage 0, `layer{i}` is stage `i`, and the
/// head (`fc`) has no stage since it is never frozen.
pub fn stage_of(name: &str) -> Option<usize> {
    let top = name.split('.').next().unwrap_or(name);
    match top {
        "conv1" | "bn1" => Some(0),
        _ => top
            .strip_prefix("layer")
            .and_then(|i| i.parse::<usize>().ok()),
    }
}

/// Whether stage `stage` (0 = stem, `i` = `layer{i}`) is frozen at depth `depth`.
pub fn stage_is_frozen(stage: usize, depth: usize) -> bool {
    depth > 0 && stage <= depth
}

/// Whether the tensor `name` is frozen at depth `depth` (see the module docs).
pub fn is_frozen(name: &str, depth: usize) -> bool {
    stage_of(name).is_some_and(|stage| stage_is_frozen(stage, depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_torchvision_names() {
        assert_eq!(stage_of("conv1.weight"), Some(0));
        assert_eq!(stage_of("bn1.running_var"), Some(0));
        assert_eq!(stage_of("layer3.1.conv2.weight"), Some(3));
        assert_eq!(stage_of("layer2.0.downsample.1.bias"), Some(2));
        assert_eq!(stage_of("fc.weight"), None);
    }

    #[test]
    fn depth_freezes_stem_and_leading_stages() {
        // Table: (name, depth, frozen?)
        let cases = [
            ("conv1.weight", 0, false),
            ("conv1.weight", 1, true),
            ("layer1.0.conv1.weight", 1, true),
            ("layer2.0.conv1.weight", 1, false),
            ("layer2.0.conv1.weight", 2, true),
            ("layer4.1.bn2.weight", 3, false),
            ("layer4.1.bn2.weight", 4, true),
            ("fc.weight", 4, false),
        ];
        for (name, depth, frozen) in cases {
            assert_eq!(is_frozen(name, depth), frozen, "{name} at depth {depth}");
        }
    }
}
