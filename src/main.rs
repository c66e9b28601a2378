fn main() -> std::process::ExitCode {
    istio_cockpit::cli::main()
}
