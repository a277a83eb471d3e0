"""therapyinfo: plain-language information about ketamine and psychedelic therapies."""
