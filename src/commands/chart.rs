// placeholder until the chart module lands (helper writing it)
pub struct Series {
    pub strategy: String,
    pub points: Vec<Point>,
}
pub struct Point {
    pub orders: u32,
    pub violations_per_10k: f64,
    pub p99_latency_ms: Option<u64>,
}
pub fn render_svg(_title: &str, _series: &[Series]) -> Result<String, String> {
    Err("not yet".into())
}
