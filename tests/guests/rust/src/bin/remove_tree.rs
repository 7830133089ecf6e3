//! `std::fs::remove_dir_all` of deep trees, with a preopen at /rw holding the tree the
//! host made: `deep/` (directories `l0/l1/...` with a file, a symlink to a file outside
//! the tree and a symlink to a directory at every level) and `keep/target.txt`. Prints
//! `ok <name>` or `FAIL <name>: ...` per check, then `done`.
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

/// Names in `dir`, sorted (std leaves out `.` and `..`).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.map_or("<error>".into(), |e| e.file_name().to_string_lossy().into_owned()))
            .collect(),
        Err(e) => vec![format!("<{e}>")],
    };
    v.sort();
    v
}

fn main() {
    let depth: usize = std::env::args().nth(1).and_then(|d| d.parse().ok()).unwrap_or(0);

    // The host's tree: every level lists what the host put there, then it all goes.
    let mut level = PathBuf::from("/rw/deep");
    for i in 0..depth {
        level.push(format!("l{i}"));
        let mut want = vec!["file".to_string(), "link_dir".into(), "link_out".into()];
        if i + 1 < depth {
            want.push(format!("l{}", i + 1));
            want.sort();
        }
        check(&format!("host tree level {i}"), names(&level), want);
    }
    check("remove_dir_all host tree", fs::remove_dir_all("/rw/deep").map_err(|e| e.to_string()), Ok(()));
    check("host tree gone", Path::new("/rw/deep").exists(), false);
    check("symlink targets kept", fs::read_to_string("/rw/keep/target.txt").ok(), Some("keep\n".into()));
    check("preopen left", names(Path::new("/rw")), vec!["keep".to_string()]);

    // A tree of the guest's own: 3 files and 2 subdirectories per level, 6 levels.
    fn grow(dir: &Path, levels: u32) -> std::io::Result<u32> {
        fs::create_dir(dir)?;
        let mut made = 1;
        for f in 0..3 {
            fs::write(dir.join(format!("f{f}")), b"x")?;
            made += 1;
        }
        if levels > 0 {
            for d in 0..2 {
                made += grow(&dir.join(format!("d{d}")), levels - 1)?;
            }
        }
        Ok(made)
    }
    check("grow own tree", grow(Path::new("/rw/own"), 6).map_err(|e| e.to_string()), Ok(127 * 4));
    check("own tree leaf", names(Path::new("/rw/own/d1/d0/d1/d0/d1/d0")), vec!["f0".to_string(), "f1".into(), "f2".into()]);
    check("remove_dir_all own tree", fs::remove_dir_all("/rw/own").map_err(|e| e.to_string()), Ok(()));
    check("own tree gone", Path::new("/rw/own").exists(), false);
    check("remove_dir_all missing", fs::remove_dir_all("/rw/own").map_err(|e| e.kind()), Err(std::io::ErrorKind::NotFound));
    println!("done");
}
