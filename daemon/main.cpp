// A thin shell over daemon/app (the subcommands live there).
#include "daemon/app/commands.hpp"

int main(int argc, char** argv) { return linkpilot::app::run_cli(argc, argv); }
