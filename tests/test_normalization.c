/* placeholder for the normalization suite */
int main(void) {
    return 0;
}
