#include "coordinator/cli/cli.hpp"

int main(int argc, char** argv) { return gaffer::cli::run(argc, argv); }
