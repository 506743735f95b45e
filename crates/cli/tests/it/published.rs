//! Weights by name end to end, against a real HTTP server on 127.0.0.1 that the test starts
//! (never the internet): a torchvision-format file the test serves under a name from an index
//! file (`$CXR_WEIGHTS_INDEX`; torchvision's own files cannot be made here, their names carry
//! their real checksums), fetched ahead of time, then used by a sweep with the server stopped,
//! and compared with the same file given by path.

use std::path::{Path, PathBuf};
use std::process::Output;

use candle_core::{Device, Tensor};
use cxr_models::{Model, ModelConfig, ModelKind};

use crate::support::{text, TestResult};
use crate::weights_server::{entries, refused_base, sha256_hex, Reply, TestServer};

const NAME: &str = "test:PARITY_V1";

/// A ResNet18 state dict with torchvision's tensor names (running statistics included), as a
/// safetensors file: what a published file holds, made here from a seeded init.
fn make_weights(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let model = ModelConfig::new(ModelKind::Resnet18, 1000).init(&Device::Cpu, 123)?;
    model.save(path)?;
    Ok(())
}

fn grid(name: &str, weights: &str) -> String {
    format!(
        "name = \"{name}\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 8\nsize = 32\n\
         [train]\nmax_epochs = 1\npatience = 1\nbatch_size = 8\n\
         [model]\nname = \"resnet18\"\nfreeze = 4\nweights = \"{weights}\"\n"
    )
}

struct Setup {
    dir: tempfile::TempDir,
    index: PathBuf,
}

impl Setup {
    fn cxr(&self, args: &[&str], mirror: Option<&str>) -> std::io::Result<Output> {
        let mut c = crate::support::cxr();
        c.args(args)
            .current_dir(self.dir.path())
            .env(cxr_weights::INDEX_ENV, &self.index)
            .env_remove(cxr_weights::MIRROR_ENV);
        if let Some(m) = mirror {
            c.env(cxr_weights::MIRROR_ENV, m);
        }
        c.output()
    }

    fn model_of(&self, grid: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let runs = self.dir.path().join("results").join(grid).join("runs");
        let run = std::fs::read_dir(&runs)?.next().ok_or("no run")??;
        Ok(run.path().join("model.safetensors"))
    }
}

#[test]
fn weights_by_name_are_fetched_once_work_offline_and_equal_the_file_by_path() -> TestResult {
    let made = tempfile::tempdir()?;
    let by_path = made.path().join("resnet18-imagenet-like.safetensors");
    make_weights(&by_path)?;
    let bytes = std::fs::read(&by_path)?;
    let file = "resnet18-parity.safetensors";
    let mut server = TestServer::start(vec![(format!("/{file}"), Reply::File(bytes.clone()))])?;
    let dir = tempfile::tempdir()?;
    let index = dir.path().join("index.toml");
    std::fs::write(
        &index,
        format!(
            "[[weights]]\nname = \"{NAME}\"\nmodel = \"resnet18\"\nurl = \"{}/{file}\"\nsha256 = \"{}\"\n",
            server.base,
            sha256_hex(&bytes)
        ),
    )?;
    let setup = Setup { dir, index };
    let root = setup.dir.path();
    std::fs::write(root.join("byname.toml"), grid("byname", NAME))?;
    std::fs::write(
        root.join("bypath.toml"),
        grid("bypath", &by_path.to_string_lossy()),
    )?;
    let cache = root.join("cache");
    let cache_arg = cache.to_str().ok_or("path")?;

    // An unreachable mirror: one line naming the URL and the manual fallback; nothing cached,
    // no run folder.
    let refused = refused_base()?;
    let out = setup.cxr(
        &["sweep", "byname.toml", "--cache-dir", cache_arg, "--quiet"],
        Some(&refused),
    )?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{refused}/{file}"))
            && stderr.contains("download that URL by hand"),
        "{stderr}"
    );
    assert!(entries(&cache.join("weights")).is_empty());
    assert!(
        !root.join("results/byname/runs").exists()
            || entries(&root.join("results/byname/runs")).is_empty()
    );

    // Fetch ahead of time (one request), list, then stop the server.
    let out = setup.cxr(
        &[
            "weights",
            "fetch",
            "resnet18",
            "--variant",
            NAME,
            "--cache-dir",
            cache_arg,
        ],
        None,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.requests(), 1);
    let listed = text(
        &setup
            .cxr(&["weights", "list", "--cache-dir", cache_arg], None)?
            .stdout,
    );
    assert!(
        listed.contains(file) && listed.contains(&sha256_hex(&bytes)),
        "{listed}"
    );
    server.stop()?;

    // A sweep with the server gone works from the cache.
    let out = setup.cxr(
        &["sweep", "byname.toml", "--cache-dir", cache_arg, "--quiet"],
        None,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = setup.cxr(
        &["sweep", "bypath.toml", "--cache-dir", cache_arg, "--quiet"],
        None,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // By name and by path: the same trained model, hence identical logits.
    let device = Device::Cpu;
    let config = ModelConfig::new(ModelKind::Resnet18, 4).with_freeze(4);
    let named = Model::load(config, &setup.model_of("byname")?, &device)?;
    let pathed = Model::load(config, &setup.model_of("bypath")?, &device)?;
    let xs = Tensor::randn(0f32, 1.0, (2, 3, 32, 32), &device)?;
    let logits = |m: &Model| -> candle_core::Result<Vec<f32>> {
        candle_nn::ModuleT::forward_t(m, &xs, false)?
            .flatten_all()?
            .to_vec1::<f32>()
    };
    assert_eq!(logits(&named)?, logits(&pathed)?);
    // Both use ImageNet's statistics: they are ImageNet-format weights.
    for grid in ["byname", "bypath"] {
        let record =
            std::fs::read_to_string(setup.model_of(grid)?.with_file_name("preprocessing.json"))?;
        assert!(record.contains("0.485"), "{grid}: {record}");
    }
    Ok(())
}
