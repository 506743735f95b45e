//! Finding the images of a dataset on disk.
//!
//! Two layouts are recognised per class folder:
//! - the COVID-19 Radiography Dataset (Kaggle) layout, `<root>/<Class>/images/*` with an optional
//!   sibling `<root>/<Class>/masks/` holding lung masks under the same file names;
//! - plain class folders, `<root>/<Class>/*` (sub-folders searched too, except `masks/` and
//!   `lesions/`).
//!
//! Files beside the class folders (`*.metadata.xlsx`, `README.md`, ...) and hidden folders are not
//! classes. Class order is sorted by name unless the caller gives an explicit list.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{DataError, Result};

/// Extensions (lower case) that are read as images. Other files are images too when they carry
/// the DICOM magic: PACS exports are often named by UID alone (`1.2.840.113619.2.55.3`) or by
/// number (`IM000001`).
pub const IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "dcm", "dicom"];

/// A DICOM media directory: an index of the files beside it, never an image.
const DICOMDIR: &str = "DICOMDIR";

/// Sub-folders of a class folder that hold auxiliary masks, never training images.
const AUX_FOLDERS: [&str; 2] = ["masks", "lesions"];

/// How a class folder stores its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `<Class>/images/*`, optional `<Class>/masks/*` (the COVID-19 Radiography Dataset).
    Kaggle,
    /// `<Class>/*`.
    ClassFolder,
}

/// One class found on disk.
#[derive(Debug, Clone)]
pub struct ClassDir {
    /// Class name (the folder name).
    pub name: String,
    /// The class folder.
    pub dir: PathBuf,
    /// How this class stores its images.
    pub layout: Layout,
    /// Image files, sorted by path.
    pub images: Vec<PathBuf>,
    /// The lung-mask folder, when the class has one.
    pub masks_dir: Option<PathBuf>,
    /// Number of image files in `masks_dir`.
    pub masks: usize,
}

impl ClassDir {
    /// Where the lung mask of `image` is expected (same file name under `masks/`).
    pub fn mask_path(&self, image: &Path) -> PathBuf {
        let masks = self
            .masks_dir
            .clone()
            .unwrap_or_else(|| self.dir.join("masks"));
        match image.file_name() {
            Some(name) => masks.join(name),
            None => masks,
        }
    }
}

/// The images of a dataset, grouped by class; the class index is the label.
#[derive(Debug, Clone)]
pub struct DatasetIndex {
    /// The dataset root.
    pub root: PathBuf,
    /// Classes in label order.
    pub classes: Vec<ClassDir>,
}

impl DatasetIndex {
    /// Class names in label order.
    pub fn class_names(&self) -> Vec<String> {
        self.classes.iter().map(|c| c.name.clone()).collect()
    }

    /// Total number of images.
    pub fn len(&self) -> usize {
        self.classes.iter().map(|c| c.images.len()).sum()
    }

    /// True when the dataset holds no image (never the case after [`discover`] succeeds).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses a folder that is not a training dataset's root: one with a single class (a
    /// classifier needs two), or whose "classes" are the `images`, `masks` or `lesions`
    /// folders of one class (the root is one level too deep). The error names the folder that
    /// is likely the root. For an index found without an explicit class list.
    pub fn check_is_root(&self) -> Result<()> {
        let names = self.class_names();
        let aux: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| is_class_subfolder(n))
            .collect();
        let reason = if !aux.is_empty() {
            format!(
                "its class folders {} are the sub-folders of one class",
                aux.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if names.len() == 1 {
            format!(
                "it holds one class, `{}`, and a classifier needs two or more",
                names[0]
            )
        } else {
            return Ok(());
        };
        let (likely_root, advice) = match self.classes.as_slice() {
            // One class that itself holds several class-like folders: the root is one level
            // further down.
            [only] if aux.is_empty() && class_like_folders(&only.dir) >= 2 => {
                let n = class_like_folders(&only.dir);
                let advice = format!("{}, which holds {n} class folders", only.dir.display());
                (only.dir.clone(), advice)
            }
            _ => {
                let above = self
                    .root
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| self.root.join(".."), Path::to_path_buf);
                let advice = format!("the folder above, {}", above.display());
                (above, advice)
            }
        };
        Err(DataError::NotADatasetRoot {
            root: self.root.clone(),
            reason,
            likely_root,
            advice,
        })
    }

    /// Every image with its label, in label order then path order.
    pub fn items(&self) -> impl Iterator<Item = (&Path, u32, &ClassDir)> {
        self.classes.iter().enumerate().flat_map(|(label, class)| {
            class
                .images
                .iter()
                .map(move |p| (p.as_path(), label as u32, class))
        })
    }
}

/// Whether a folder named `name` is one of a class folder's own sub-folders (`images`, `masks`,
/// `lesions`, any case) rather than a class.
fn is_class_subfolder(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "images" || AUX_FOLDERS.contains(&lower.as_str())
}

/// The sub-folders of `dir` that could be classes: not hidden, not a class's own sub-folders.
fn class_like_folders(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.path().is_dir())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !name.starts_with('.') && !is_class_subfolder(&name)
            })
            .count()
    })
}

/// True when `path` has an image extension, or else carries the DICOM magic (which this
/// reads: 132 bytes). `DICOMDIR` is never an image.
pub fn is_image_file(path: &Path) -> bool {
    let known = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    known
        || (path.file_name().is_some_and(|n| n != DICOMDIR) && crate::dicom::has_dicom_magic(path))
}

/// Where the lung mask of a single image file is expected, by the layouts [`discover`] knows:
/// `<Class>/images/x.png` -> `<Class>/masks/x.png`, `<dir>/x.png` -> `<dir>/masks/x.png`.
pub fn mask_path_of(image: &Path) -> PathBuf {
    let dir = image.parent().unwrap_or(Path::new(""));
    let class_dir = if dir.file_name().is_some_and(|n| n == "images") {
        dir.parent().unwrap_or(Path::new(""))
    } else {
        dir
    };
    let masks = class_dir.join("masks");
    match image.file_name() {
        Some(name) => masks.join(name),
        None => masks,
    }
}

/// Finds the classes and images under `root`.
///
/// `classes`: an explicit class list (label order = list order); `None` takes every class folder,
/// sorted by name. Errors name the folder at fault: a missing root, a root without class folders,
/// a listed class without a folder, a class without images.
pub fn discover(root: &Path, classes: Option<&[String]>) -> Result<DatasetIndex> {
    if !root.is_dir() {
        return Err(DataError::MissingRoot(root.to_path_buf()));
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root).map_err(DataError::io(root))? {
        let entry = entry.map_err(DataError::io(root))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    let selected: Vec<String> = match classes {
        Some(list) => {
            for class in list {
                if !names.contains(class) {
                    return Err(DataError::UnknownClass {
                        class: class.clone(),
                        root: root.to_path_buf(),
                    });
                }
            }
            list.to_vec()
        }
        None => names,
    };
    if selected.is_empty() {
        return Err(DataError::NoClasses(root.to_path_buf()));
    }
    let classes = selected
        .into_iter()
        .map(|name| scan_class(root, name))
        .collect::<Result<Vec<_>>>()?;
    Ok(DatasetIndex {
        root: root.to_path_buf(),
        classes,
    })
}

fn scan_class(root: &Path, name: String) -> Result<ClassDir> {
    let dir = root.join(&name);
    let images_dir = dir.join("images");
    let (layout, search) = if images_dir.is_dir() {
        (Layout::Kaggle, images_dir)
    } else {
        (Layout::ClassFolder, dir.clone())
    };
    let images = list_images(&search, true)?;
    if images.is_empty() {
        return Err(DataError::EmptyClass {
            class: name,
            dir: search,
        });
    }
    let masks_dir = Some(dir.join("masks")).filter(|m| m.is_dir());
    let masks = match &masks_dir {
        Some(m) => list_images(m, false)?.len(),
        None => 0,
    };
    Ok(ClassDir {
        name,
        dir,
        layout,
        images,
        masks_dir,
        masks,
    })
}

/// Image files under `dir` (searched recursively, links followed), sorted; hidden entries are
/// skipped, and so are `masks/` and `lesions/` sub-folders when `skip_aux` is set.
pub fn list_images(dir: &Path, skip_aux: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let walker = WalkDir::new(dir).follow_links(true).into_iter();
    for entry in walker.filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0
            || !(name.starts_with('.')
                || (skip_aux && e.file_type().is_dir() && AUX_FOLDERS.contains(&name.as_ref())))
    }) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            DataError::Io {
                path,
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
            }
        })?;
        if entry.file_type().is_file() && is_image_file(entry.path()) {
            out.push(entry.into_path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(path, b"x")
    }

    #[test]
    fn mask_of_a_single_image_follows_both_layouts() {
        assert_eq!(
            mask_path_of(Path::new("/d/COVID/images/COVID-1.png")),
            Path::new("/d/COVID/masks/COVID-1.png")
        );
        assert_eq!(
            mask_path_of(Path::new("new/x.png")),
            Path::new("new/masks/x.png")
        );
        assert_eq!(mask_path_of(Path::new("x.png")), Path::new("masks/x.png"));
    }

    #[test]
    fn kaggle_layout_ignores_masks_and_metadata() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let r = tmp.path();
        touch(&r.join("COVID/images/COVID-1.png"))?;
        touch(&r.join("COVID/images/COVID-2.png"))?;
        touch(&r.join("COVID/masks/COVID-1.png"))?;
        touch(&r.join("Normal/images/Normal-1.PNG"))?;
        touch(&r.join("COVID.metadata.xlsx"))?;
        touch(&r.join("README.md.txt"))?;
        let idx = discover(r, None)?;
        assert_eq!(idx.class_names(), ["COVID", "Normal"]);
        assert_eq!(idx.classes[0].layout, Layout::Kaggle);
        assert_eq!(idx.classes[0].images.len(), 2);
        assert_eq!(idx.classes[0].masks, 1);
        assert_eq!(idx.classes[1].masks, 0);
        Ok(())
    }

    #[test]
    fn plain_class_folders_and_explicit_order() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let r = tmp.path();
        touch(&r.join("b/x.jpg"))?;
        touch(&r.join("b/sub/y.jpeg"))?;
        touch(&r.join("b/masks/x.png"))?;
        touch(&r.join("a/z.png"))?;
        touch(&r.join("a/notes.txt"))?;
        let idx = discover(r, Some(&["b".to_string(), "a".to_string()]))?;
        assert_eq!(idx.class_names(), ["b", "a"]);
        assert_eq!(idx.classes[0].layout, Layout::ClassFolder);
        assert_eq!(
            idx.classes[0].images.len(),
            2,
            "masks/ is not a source of images"
        );
        assert_eq!(idx.classes[1].images.len(), 1);
        let labels: Vec<u32> = idx.items().map(|(_, l, _)| l).collect();
        assert_eq!(labels, [0, 0, 1]);
        Ok(())
    }

    #[test]
    fn errors_name_the_folder() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let r = tmp.path();
        let missing = discover(&r.join("nope"), None).err().map(|e| e.to_string());
        assert!(missing.is_some_and(|m| m.contains("nope") && m.contains("does not exist")));
        touch(&r.join("a/x.png"))?;
        std::fs::create_dir_all(r.join("empty/images"))?;
        let empty = discover(r, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            empty.contains("\"empty\"") && empty.contains("empty/images"),
            "{empty}"
        );
        let unknown = discover(r, Some(&["zzz".to_string()]))
            .err()
            .map(|e| e.to_string());
        assert!(unknown.is_some_and(|m| m.contains("zzz")));
        let none = tempfile::tempdir()?;
        assert!(matches!(
            discover(none.path(), None),
            Err(DataError::NoClasses(_))
        ));
        Ok(())
    }

    /// Issue 32: `--data <root>/COVID` trained a one-class model named `images`.
    #[test]
    fn a_class_folder_or_a_single_class_is_not_a_dataset_root(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let r = tmp.path().join("data");
        touch(&r.join("COVID/images/COVID-1.png"))?;
        touch(&r.join("COVID/masks/COVID-1.png"))?;
        touch(&r.join("COVID/lesions/COVID-1.png"))?;
        touch(&r.join("Normal/images/Normal-1.png"))?;
        discover(&r, None)?.check_is_root()?;

        let too_deep = discover(&r.join("COVID"), None)?.check_is_root();
        let msg = too_deep.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("`masks`") && msg.contains("`images`"), "{msg}");
        assert!(
            msg.ends_with(&format!("pass the folder above, {}", r.display())),
            "{msg}"
        );
        assert_eq!(msg.lines().count(), 1, "{msg}");

        // A single masks/ folder beside plain class folders is a class's sub-folder too.
        let plain = tmp.path().join("plain");
        touch(&plain.join("a/x.png"))?;
        touch(&plain.join("Masks/x.png"))?;
        assert!(matches!(
            discover(&plain, None)?.check_is_root(),
            Err(DataError::NotADatasetRoot { .. })
        ));

        // One class: the folder above when it is a plain class folder ...
        let one = tmp.path().join("one");
        touch(&one.join("COVID/x.png"))?;
        let msg = discover(&one, None)?
            .check_is_root()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("one class, `COVID`"), "{msg}");
        assert!(
            msg.ends_with(&format!("pass the folder above, {}", tmp.path().display())),
            "{msg}"
        );
        // ... or the single folder itself when it holds the classes (one level too high).
        let high = tempfile::tempdir()?;
        touch(&high.path().join("data/COVID/x.png"))?;
        touch(&high.path().join("data/Normal/y.png"))?;
        let msg = discover(high.path(), None)?
            .check_is_root()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let inner = high.path().join("data");
        assert!(
            msg.ends_with(&format!(
                "pass {}, which holds 2 class folders",
                inner.display()
            )),
            "{msg}"
        );
        Ok(())
    }
}
