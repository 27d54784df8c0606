use stockrace::{Chooser, Isolation, Scenario, Simulation, Strategies};
struct Log {
    inner: stockrace::ReplayChooser,
    log: Vec<usize>,
}
impl Chooser for Log {
    fn choose(&mut self, n: usize) -> usize {
        self.log.push(n);
        self.inner.choose(n)
    }
}
fn main() {
    let sim = Simulation::new(
        Scenario::single("plain-update", 3, 2, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap();
    let model = sim.run_seed(3);
    let mut a = Log {
        inner: stockrace::ReplayChooser::new(model.schedule.clone()),
        log: vec![],
    };
    let m = sim.run(&mut a, Some(3));
    let server = stockrace::adapters::postgres::PgServer::connect(None).unwrap();
    let mut b = Log {
        inner: stockrace::ReplayChooser::new(model.schedule.clone()),
        log: vec![],
    };
    let p = sim.run_on(&mut b, Some(3), server.backend(&sim).unwrap());
    println!("model options {:?}\npg    options {:?}", a.log, b.log);
    println!("{}", m.render());
    println!("{}", p.render());
}
