//! Prints, one JSON string per line, the text the embedding model sees for every package
//! of the given sync DBs — what `rast index build` embeds — so bench/search-bench can
//! time sentence-transformers on exactly the same texts.
//! Usage: cargo run --release -p rast-pkgindex --example embed_texts -- DB…

fn main() {
    let mut pkgs = Vec::new();
    for db in std::env::args().skip(1) {
        pkgs.extend(rast_pkgindex::pacdb::read_sync(std::path::Path::new(&db)).unwrap());
    }
    let homes = rast_pkgindex::upstream::Homepages::of(pkgs.iter().map(|p| p.url.as_str()));
    for p in &pkgs {
        let d = rast_pkgindex::doc::Doc::package(p, None, None, &homes);
        println!("{}", serde_json::to_string(&d.embed_text()).unwrap());
    }
}
