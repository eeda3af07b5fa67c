//! Dense vectors behind [`VectorStore`], with two implementations: [`FlatStore`], the
//! embedded default (no server; one file under the index dir), and
//! [`crate::qdrant::QdrantStore`].
//!
//! The flat store's search is exact in what it returns and fast by two passes: an
//! 8-bit copy of every row (a quarter of the bytes; at 63k × 384 that is 24 MB instead
//! of 98) is scanned for the best `4k + 64` candidates, and those are rescored with
//! their f32 rows. The 8-bit order differs from the exact one only between scores a
//! few thousandths apart ([`crate::scan`]), far inside that margin, so the `k` returned
//! are the exact scan's `k` with their exact scores. (An HNSW graph took 84 s to build
//! for 50k vectors here; the scan needs no build.)
//!
//! File `vectors.bin`: magic `RASTVEC2`, dim (u32 LE), count (u32 LE), length of the
//! id block (u64 LE), the ids separated by `\n`, zero padding to 4 bytes, count × dim
//! f32 LE, count f32 LE scales, count × dim i8. `RASTVEC1` files (no 8-bit part) still
//! open and are scanned in f32 until the next build rewrites them. Written to a temp
//! file and renamed, so readers see an old or a new set, never a torn one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::doc::Kind;
use crate::scan::{self, Hit, Rows8};
use crate::{Error, Result};

/// A set of (id, unit vector) pairs searchable by dot product.
pub trait VectorStore: Send + Sync {
    /// Adds or replaces `upsert`, deletes `remove`, keeps everything else.
    fn apply(&mut self, upsert: Vec<(String, Vec<f32>)>, remove: &[String]) -> Result<()>;
    /// The `k` nearest ids to `query` (cosine), optionally of one kind.
    fn search(&self, query: &[f32], k: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const MAGIC_V1: &[u8; 8] = b"RASTVEC1";
const MAGIC: &[u8; 8] = b"RASTVEC2";

/// Sets at least this big are scanned by two threads: the scan is bound by memory
/// bandwidth, and below this a thread costs more than it saves.
const TWO_THREADS_FROM: usize = 20_000;

/// The embedded store.
pub struct FlatStore {
    path: PathBuf,
    dim: usize,
    map: Option<memmap2::Mmap>,
    /// (id start, id end) byte offsets into the id block, per row.
    ids: Vec<(usize, usize)>,
    /// The kind of each row's id, read once at open.
    kinds: Vec<Kind>,
    data_off: usize,
    /// Byte offsets of the scales and the 8-bit rows (`RASTVEC2` files).
    rows8: Option<(usize, usize)>,
}

impl FlatStore {
    pub const FILE: &'static str = "vectors.bin";

    /// Opens `dir/vectors.bin` (an empty store of width `dim` if absent).
    pub fn open(dir: &Path, dim: usize) -> Result<FlatStore> {
        let path = dir.join(Self::FILE);
        let mut s = FlatStore {
            path: path.clone(),
            dim,
            map: None,
            ids: Vec::new(),
            kinds: Vec::new(),
            data_off: 0,
            rows8: None,
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(s),
            Err(e) => return Err(Error::Io(path, e)),
        };
        // SAFETY: the file is only ever replaced by rename, never modified in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::Io(path.clone(), e))?;
        let bad = |why: &str| {
            Error::Index(format!(
                "{} is damaged ({why}); rebuild with `rast index build`",
                path.display()
            ))
        };
        if map.len() < 24 || (&map[..8] != MAGIC && &map[..8] != MAGIC_V1) {
            return Err(bad("bad header"));
        }
        let has_rows8 = &map[..8] == MAGIC;
        let file_dim = u32::from_le_bytes(map[8..12].try_into().unwrap()) as usize;
        let count = u32::from_le_bytes(map[12..16].try_into().unwrap()) as usize;
        let id_len = u64::from_le_bytes(map[16..24].try_into().unwrap()) as usize;
        if file_dim != dim {
            return Err(bad(&format!(
                "vectors have {file_dim} dimensions, the model {dim}"
            )));
        }
        let id_end = 24usize.checked_add(id_len).ok_or_else(|| bad("id block"))?;
        let data_off = id_end.div_ceil(4) * 4;
        let f32_end = data_off + count * dim * 4;
        let expected = if has_rows8 {
            f32_end + count * 4 + count * dim
        } else {
            f32_end
        };
        if map.len() != expected || id_end > map.len() {
            return Err(bad("size does not match its header"));
        }
        let mut ids = Vec::with_capacity(count);
        let mut start = 24;
        for (i, &b) in map[24..id_end].iter().enumerate() {
            if b == b'\n' {
                ids.push((start, 24 + i));
                start = 24 + i + 1;
            }
        }
        if ids.len() != count {
            return Err(bad("id count does not match"));
        }
        s.kinds = ids
            .iter()
            .map(|&(a, b)| Kind::of_id(std::str::from_utf8(&map[a..b]).unwrap_or("")))
            .collect();
        s.ids = ids;
        s.data_off = data_off;
        s.rows8 = has_rows8.then_some((f32_end, f32_end + count * 4));
        s.map = Some(map);
        Ok(s)
    }

    /// Whether the file predates the 8-bit rows (a build rewrites it).
    pub fn lacks_8bit_rows(&self) -> bool {
        self.map.is_some() && self.rows8.is_none()
    }

    fn id(&self, row: usize) -> &str {
        let (a, b) = self.ids[row];
        std::str::from_utf8(&self.map.as_ref().expect("rows imply a map")[a..b]).unwrap_or("")
    }

    fn row(&self, row: usize) -> &[f32] {
        let map = self.map.as_ref().expect("rows imply a map");
        let start = self.data_off + row * self.dim * 4;
        let bytes = &map[start..start + self.dim * 4];
        // SAFETY: data_off is 4-aligned within a page-aligned map, and f32 has no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const f32, self.dim) }
    }

    fn rows8(&self) -> Option<Rows8<'_>> {
        let (scales_off, rows_off) = self.rows8?;
        let map = self.map.as_ref()?;
        let n = self.ids.len();
        // SAFETY: offsets checked against the file size at open; scales_off is 4-aligned
        // (it follows the f32 rows); neither f32 nor i8 has invalid bit patterns.
        unsafe {
            Some(Rows8 {
                dim: self.dim,
                scales: std::slice::from_raw_parts(map[scales_off..].as_ptr() as *const f32, n),
                rows: std::slice::from_raw_parts(
                    map[rows_off..].as_ptr() as *const i8,
                    n * self.dim,
                ),
            })
        }
    }

    /// Writes a complete set atomically.
    pub fn write(path: &Path, dim: usize, rows: &[(String, Vec<f32>)]) -> Result<()> {
        let tmp = path.with_extension("bin.tmp");
        let io = |e| Error::Io(path.to_path_buf(), e);
        let mut ids = Vec::new();
        for (id, v) in rows {
            if id.contains('\n') || v.len() != dim {
                return Err(Error::Index(format!(
                    "cannot store vector {id:?} (dim {})",
                    v.len()
                )));
            }
            ids.extend_from_slice(id.as_bytes());
            ids.push(b'\n');
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        f.write_all(MAGIC).map_err(io)?;
        f.write_all(&(dim as u32).to_le_bytes()).map_err(io)?;
        f.write_all(&(rows.len() as u32).to_le_bytes())
            .map_err(io)?;
        f.write_all(&(ids.len() as u64).to_le_bytes()).map_err(io)?;
        f.write_all(&ids).map_err(io)?;
        let pad = (24 + ids.len()).div_ceil(4) * 4 - (24 + ids.len());
        f.write_all(&[0u8; 4][..pad]).map_err(io)?;
        for (_, v) in rows {
            for x in v {
                f.write_all(&x.to_le_bytes()).map_err(io)?;
            }
        }
        let rows8: Vec<(Vec<i8>, f32)> = rows.iter().map(|(_, v)| scan::quantize(v)).collect();
        for (_, scale) in &rows8 {
            f.write_all(&scale.to_le_bytes()).map_err(io)?;
        }
        for (q, _) in &rows8 {
            f.write_all(&q.iter().map(|&x| x as u8).collect::<Vec<u8>>())
                .map_err(io)?;
        }
        let f = f.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// The `want` best rows by approximate score (8-bit pass), or by exact score in
    /// `RASTVEC1` files; split across two threads on big sets.
    fn candidates(&self, query: &[f32], want: usize, kind: Option<Kind>) -> Vec<Hit> {
        let n = self.ids.len();
        let keep = |r: usize| Kind::admits(kind, self.kinds[r]);
        let q8 = scan::quantize(query).0;
        let rows8 = self.rows8();
        let pass = |lo: usize, hi: usize| match &rows8 {
            Some(rows8) => rows8.top_k(&q8, lo, hi, want, &keep),
            None => scan::top_k(lo, hi, want, |r| {
                keep(r).then(|| scan::dot(query, self.row(r)))
            }),
        };
        if n < TWO_THREADS_FROM {
            return pass(0, n);
        }
        let mid = n / 2;
        std::thread::scope(|s| {
            let a = s.spawn(|| pass(0, mid));
            let mut b = pass(mid, n);
            b.extend(a.join().expect("scan thread"));
            b
        })
    }
}

impl VectorStore for FlatStore {
    fn apply(&mut self, upsert: Vec<(String, Vec<f32>)>, remove: &[String]) -> Result<()> {
        let removed: std::collections::HashSet<&str> = remove
            .iter()
            .map(String::as_str)
            .chain(upsert.iter().map(|(i, _)| i.as_str()))
            .collect();
        let mut rows: Vec<(String, Vec<f32>)> = (0..self.ids.len())
            .filter(|&r| !removed.contains(self.id(r)))
            .map(|r| (self.id(r).to_string(), self.row(r).to_vec()))
            .collect();
        rows.extend(upsert);
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Self::write(&self.path, self.dim, &rows)?;
        let dir = self.path.parent().expect("file in a dir").to_path_buf();
        *self = FlatStore::open(&dir, self.dim)?;
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>> {
        if query.len() != self.dim {
            return Err(Error::Index(format!(
                "query has {} dimensions, the index {}",
                query.len(),
                self.dim
            )));
        }
        let mut hits: Vec<Hit> = self
            .candidates(query, 4 * k + 64, kind)
            .into_iter()
            .map(|Hit(_, r)| Hit(scan::dot(query, self.row(r)), r))
            .collect();
        scan::sort_best_first(&mut hits);
        hits.truncate(k);
        Ok(hits
            .into_iter()
            .map(|Hit(s, r)| (self.id(r).to_string(), s))
            .collect())
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

impl FlatStore {
    /// The stored vector of `id`, if any.
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        // Ids are written sorted: binary search.
        let (mut lo, mut hi) = (0, self.ids.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.row(mid).to_vec()),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn write_open_search_apply() {
        let d = tempfile::tempdir().unwrap();
        let mut s = FlatStore::open(d.path(), 3).unwrap();
        assert!(s.is_empty());
        s.apply(
            vec![
                ("pkg:a/x".into(), unit(&[1., 0., 0.])),
                ("pkg:a/y".into(), unit(&[0., 1., 0.])),
                ("etc:/etc/z#0".into(), unit(&[1., 1., 0.])),
            ],
            &[],
        )
        .unwrap();
        let s = FlatStore::open(d.path(), 3).unwrap();
        assert_eq!(s.len(), 3);
        let hits = s.search(&unit(&[1., 0.1, 0.]), 2, None).unwrap();
        assert_eq!(hits[0].0, "pkg:a/x");
        assert_eq!(hits[1].0, "etc:/etc/z#0");
        let hits = s
            .search(&unit(&[1., 0.1, 0.]), 5, Some(Kind::Package))
            .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            vec!["pkg:a/x", "pkg:a/y"]
        );
        assert_eq!(s.get("pkg:a/y").unwrap(), unit(&[0., 1., 0.]));
        let mut s = s;
        s.apply(
            vec![("pkg:a/y".into(), unit(&[0., 0., 1.]))],
            &["pkg:a/x".to_string()],
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.get("pkg:a/y").unwrap(), unit(&[0., 0., 1.]));
        assert!(s.get("pkg:a/x").is_none());
        assert!(
            FlatStore::open(d.path(), 4).is_err(),
            "dimension mismatch is caught"
        );
    }

    #[test]
    fn big_scan_matches_brute_force() {
        let d = tempfile::tempdir().unwrap();
        let mut rng = 1u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((rng >> 33) as f32 / u32::MAX as f32) - 0.25
        };
        let rows: Vec<(String, Vec<f32>)> = (0..25_000)
            .map(|i| {
                (
                    format!("pkg:r/{i:06}"),
                    unit(&(0..8).map(|_| next()).collect::<Vec<_>>()),
                )
            })
            .collect();
        FlatStore::write(&d.path().join(FlatStore::FILE), 8, &rows).unwrap();
        let s = FlatStore::open(d.path(), 8).unwrap();
        let q = unit(&[0.3, -0.2, 0.5, 0.1, 0.0, 0.4, -0.1, 0.2]);
        let mut brute: Vec<(f32, &str)> = rows
            .iter()
            .map(|(i, v)| (scan::dot(&q, v), i.as_str()))
            .collect();
        brute.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got = s.search(&q, 10, None).unwrap();
        assert_eq!(
            got.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            brute[..10].iter().map(|b| b.1).collect::<Vec<_>>()
        );
    }

    /// Vectors like a real index's: tight clusters (a package family, a config file's
    /// chunks) around shared directions, so many scores sit a hair apart.
    fn clustered(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = seed;
        let mut next = move || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((rng >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..64)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect();
        (0..n)
            .map(|i| {
                let c = &centres[i % centres.len()];
                unit(&c.iter().map(|x| x + 0.03 * next()).collect::<Vec<_>>())
            })
            .collect()
    }

    #[test]
    fn two_pass_search_returns_the_exact_top_k_on_clustered_vectors() {
        let d = tempfile::tempdir().unwrap();
        let dim = 384;
        let rows: Vec<(String, Vec<f32>)> = clustered(20_000, dim, 3)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("pkg:r/{i:06}"), v))
            .collect();
        FlatStore::write(&d.path().join(FlatStore::FILE), dim, &rows).unwrap();
        let s = FlatStore::open(d.path(), dim).unwrap();
        assert!(!s.lacks_8bit_rows());
        // Queries inside clusters: the top 50 are near neighbours a hair apart.
        let noise = clustered(20, dim, 11);
        for (j, n) in noise.iter().enumerate() {
            let q = unit(
                &rows[j * 997]
                    .1
                    .iter()
                    .zip(n)
                    .map(|(a, b)| a + 0.05 * b)
                    .collect::<Vec<_>>(),
            );
            let mut brute: Vec<(f32, &str)> = rows
                .iter()
                .map(|(i, v)| (scan::dot(&q, v), i.as_str()))
                .collect();
            brute.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            let got = s.search(&q, 50, None).unwrap();
            let want: Vec<(&str, f32)> = brute[..50].iter().map(|b| (b.1, b.0)).collect();
            let got: Vec<(&str, f32)> = got.iter().map(|h| (h.0.as_str(), h.1)).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn files_without_8bit_rows_still_open_and_search_exactly() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(FlatStore::FILE);
        let rows: Vec<(String, Vec<f32>)> = clustered(500, 16, 5)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("pkg:r/{i:04}"), v))
            .collect();
        FlatStore::write(&path, 16, &rows).unwrap();
        let new = FlatStore::open(d.path(), 16).unwrap();
        let q = clustered(1, 16, 9).remove(0);
        let want = new.search(&q, 20, None).unwrap();
        // The RASTVEC1 layout: the same file without the scales and 8-bit rows.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[..8].copy_from_slice(MAGIC_V1);
        bytes.truncate(bytes.len() - 500 * 4 - 500 * 16);
        drop(new);
        std::fs::write(&path, bytes).unwrap();
        let mut old = FlatStore::open(d.path(), 16).unwrap();
        assert!(old.lacks_8bit_rows());
        assert_eq!(old.search(&q, 20, None).unwrap(), want);
        old.apply(vec![], &[]).unwrap();
        assert!(!old.lacks_8bit_rows(), "a rewrite adds the 8-bit rows");
        assert_eq!(old.search(&q, 20, None).unwrap(), want);
    }
}
