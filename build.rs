// The migrations are embedded at compile time (`sqlx::migrate!`); without this, adding or
// changing one does not rebuild the crate and the binary keeps the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
